"""The coordinating unit's register in the browser: figures, filter, bad input, CSV download."""
import csv
import io
from pathlib import Path

import pytest

from tests.browser.conftest import assert_accessible, login
from tests.webapp.register.conftest import FIGURES_2026, PASSWORD, seed  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


def test_register_page(page, live_server, seed):  # noqa: F811
    login(page, live_server, "ke", PASSWORD)
    page.click("nav >> text=Register")
    assert page.locator("h1").inner_text() == "Register over ansvarsgrupper"
    assert page.locator("#h-groups").inner_text() == "Ansvarsgrupper (10)"
    assert_accessible(page)

    page.fill("#year", "2026")
    page.select_option("#status", "closed")
    page.click("button[type=submit]")
    assert page.locator("#h-figures").inner_text() == "Tall for 2026"
    assert page.locator("#h-groups").inner_text() == "Ansvarsgrupper (3)"
    assert page.input_value("#status") == "closed"
    with page.expect_download() as info:
        page.click("text=Last ned tallene for 2026 som CSV")
    download = info.value
    assert download.suggested_filename == "ansvarsgrupper-tall-2026.csv"
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert {label: int(count) for _year, label, count in rows[1:]} == FIGURES_2026

    page.fill("#year", "tjuetjueseks")
    page.click("button[type=submit]")
    assert page.locator("#year-err").inner_text() == "Skriv et årstall mellom 2000 og 2027."
    assert page.input_value("#year") == "tjuetjueseks"
    assert_accessible(page)

    page.goto(f"{live_server}/register?status=closed")
    page.click(f"table >> text={seed.references['C']}")
    assert page.locator("h1").inner_text() == "Ansvarsgruppe for Cecilie Ferdig"
