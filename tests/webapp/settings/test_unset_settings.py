"""A setting the municipality has not set is read once per transaction (its default kept), and
never kept past a change: by the same transaction, or by another one before the next."""
from __future__ import annotations

from tests.statements import counting
from webapp.settings.operations import change_setting, get_setting

KEY = "mail_attachment_domains"


def test_an_unset_setting_is_asked_for_once_per_transaction(services):
    with services.db.transaction() as s:
        with counting(services.db.engine) as counted:
            first = [get_setting(s, KEY) for _ in range(10)]
        assert first == [first[0]] * 10
        assert len(counted) == 1, counted.report()


def test_a_change_is_seen_in_the_same_transaction_and_by_the_next(services):
    now = services.clock.now()
    with services.db.session() as reader:
        default = get_setting(reader, KEY)
        with services.db.transaction() as s:
            get_setting(s, KEY)
            change_setting(s, KEY, "kommune.no", at=now, actor_id=None)
            assert get_setting(s, KEY) == "kommune.no"  # the same transaction sees its own change
        assert get_setting(reader, KEY) == default  # still within the reader's transaction
        reader.commit()
        assert get_setting(reader, KEY) == "kommune.no"  # its next transaction asks again
