"""The inbox: sorting, filtering (overdue, due this week, one case) and searching by case reference
or the person's name; bad parameters fall back to the defaults."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from tests.conftest import deploy_test_diagrams, login_client
from webapp.auth.operations import create_user
from webapp.cases.models import Case
from webapp.cases.operations import add_member, register_wish
from webapp.engine.models import OpenTask

NOW = datetime(2026, 11, 25, 11, 0, tzinfo=timezone.utc)  # a Wednesday; next Monday is 30 November


@pytest.fixture
def inbox(app, services, clock):
    """Three cases of Kari's, each with one open step: Åse's overdue, Bjørn's due this week,
    Carl's due in three weeks; created in the order Carl, Åse, Bjørn."""
    clock.set(NOW)
    deploy_test_diagrams(services)
    with services.db.transaction() as s:
        kari = create_user(s, "kari", "Kari Koordinator", "passord123", at=NOW, email="kari@example.org")
        other = create_user(s, "ola", "Ola Annen", "passord123", at=NOW)
        cases = {}
        for name in ("Åse Ørnes", "Bjørn Berg", "Carl Dahl"):
            case = register_wish(s, full_name=name, birth_date=date(2015, 1, 1), at=NOW, actor_id=kari.id)
            add_member(s, case, kari.full_name, "koordinator", at=NOW, user_id=kari.id)
            cases[name] = case.id
        foreign = register_wish(s, full_name="Åse Fremmed", birth_date=date(2015, 1, 1), at=NOW, actor_id=other.id)
        add_member(s, foreign, other.full_name, "koordinator", at=NOW, user_id=other.id)
        cases["foreign"] = foreign.id
    due = {"Åse Ørnes": NOW - timedelta(days=1), "Bjørn Berg": NOW + timedelta(days=2),
           "Carl Dahl": NOW + timedelta(days=21), "foreign": NOW - timedelta(days=1)}
    created = {"Carl Dahl": NOW - timedelta(days=3), "Åse Ørnes": NOW - timedelta(days=2),
               "Bjørn Berg": NOW - timedelta(days=1), "foreign": NOW}
    for name, case_id in cases.items():
        services.engine.start(case_id, "two_steps", actor_id=None)
        with services.db.transaction() as s:  # the diagram has no due dates: give the steps some
            s.execute(update(OpenTask).where(OpenTask.case_id == case_id)
                      .values(due_at=due[name], created_at=created[name]))
    with services.db.session() as s:
        refs = {name: s.get(Case, case_id).reference for name, case_id in cases.items()}
    return login_client(app, "kari"), cases, refs


def order(client, query="", refs=None):
    response = client.get(f"/oppgaver{query}")
    assert response.status_code == 200, response.text
    found = [(response.text.find(f"({ref})"), name) for name, ref in refs.items() if f"({ref})" in response.text]
    return [name for _pos, name in sorted(found)], response.text


def test_sort_filter_and_search(inbox):
    client, cases, refs = inbox
    assert order(client, "", refs)[0] == ["Åse Ørnes", "Bjørn Berg", "Carl Dahl"]  # by due date
    assert order(client, "?sort=created", refs)[0] == ["Bjørn Berg", "Åse Ørnes", "Carl Dahl"]  # newest first
    assert order(client, "?sort=case", refs)[0] == sorted(["Åse Ørnes", "Bjørn Berg", "Carl Dahl"],
                                                         key=lambda n: refs[n])
    names, text = order(client, "?vis=overdue", refs)
    assert names == ["Åse Ørnes"] and "Forfalt" in text
    assert order(client, "?vis=week", refs)[0] == ["Bjørn Berg"]
    assert order(client, f"?sak={cases['Carl Dahl']}", refs)[0] == ["Carl Dahl"]
    assert order(client, "?q=ØRNES", refs)[0] == ["Åse Ørnes"]  # the person's name, any case
    assert order(client, f"?q={refs['Bjørn Berg'].lower()}", refs)[0] == ["Bjørn Berg"]  # the reference
    names, text = order(client, "?q=finnesikke", refs)
    assert names == [] and "Ingen oppgaver passer" in text and 'value="finnesikke"' in text
    # another user's case never shows, whatever the filter
    assert "Fremmed" not in order(client, f"?sak={cases['foreign']}", refs)[1]


@pytest.mark.parametrize("query", ["?sort=drop+table", "?vis=ukjent", "?sak=-1", "?sak=99999999999999999999",
                                   "?sak=%C2%B9", "?q=" + "x" * 5000, "?sort=&vis=&sak=&q="])
def test_bad_parameters_fall_back_to_defaults(inbox, query):
    client, _cases, refs = inbox
    names, _text = order(client, query, refs)
    if "q=x" in query:
        assert names == []
    else:
        assert names == ["Åse Ørnes", "Bjørn Berg", "Carl Dahl"]


def test_inbox_stacks_rows_on_a_phone(inbox):
    client, _cases, _refs = inbox
    text = client.get("/oppgaver").text
    assert 'class="ds-table app-stack-table"' in text and 'data-label="Frist"' in text
