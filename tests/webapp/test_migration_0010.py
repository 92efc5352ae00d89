"""Migration 0010 (the person's and guardians' own access), up and down on both databases,
matching the models; and the digests of numbers stored before it, filled at the next start."""

import pytest
import sqlalchemy as sa
from alembic import command

from tests.migrations import database_at, differences_from_models
from webapp.cases import identity
from webapp.cases.models import Person
from webapp.cases.upkeep import fill_national_id_digests
from webapp.migrate import alembic_config, upgrade

NEW_TABLES = {"meeting_replies", "meeting_requests"}
NEW_COLUMNS = {"persons": {"national_id_digest"}, "case_members": {"national_id_digest"},
               "users": {"national_id_digest"}, "cases": {"guardians_may_see"},
               "consents": {"given_by_user_id", "assurance_level"}}


@pytest.fixture(params=["sqlite", "postgresql"])
def url_at_0009(request, tmp_path):
    with database_at("0009", request.param, tmp_path) as url:
        yield url


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_up_and_down(url_at_0009):
    engine = sa.create_engine(url_at_0009)
    try:
        upgrade(url_at_0009, "0010")
        assert NEW_TABLES <= set(sa.inspect(engine).get_table_names())
        for table, columns in NEW_COLUMNS.items():
            assert columns <= _columns(engine, table), table
        # by column and table name (the tables themselves gain more in later migrations)
        assert differences_from_models(url_at_0009, *NEW_TABLES, *set().union(*NEW_COLUMNS.values()),
                                       "ix_persons_national_id_digest", "ix_case_members_national_id_digest") == []
        engine.dispose()
        command.downgrade(alembic_config(url_at_0009), "0009")
        assert not NEW_TABLES & set(sa.inspect(engine).get_table_names())
        for table, columns in NEW_COLUMNS.items():
            assert not columns & _columns(engine, table), table
    finally:
        engine.dispose()


def test_numbers_stored_before_get_their_digest_at_the_next_start(services):
    with services.db.transaction() as s:
        s.add(Person(full_name="Eldre Person", birth_date=__import__("datetime").date(2010, 1, 2),
                     national_id="02011012345"))
    assert fill_national_id_digests(services) == 1
    assert fill_national_id_digests(services) == 0  # idempotent
    with services.db.session() as s:
        person = s.scalar(sa.select(Person).where(Person.full_name == "Eldre Person"))
        assert person.national_id_digest == identity.digest("02011012345")
        assert person.national_id_digest != "02011012345" and len(person.national_id_digest) == 64
