"""Minutes corrected and approved again (issue 10 §1): "Nei, noe må rettes" opens a correction
step for the minute-taker, then a new approval round; the PDF says approved only after approval
and carries the correction history. SQLite and PostgreSQL."""
import io
from datetime import timedelta

from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import login_client
from tests.webapp.cases.helpers import PASSWORD, complete, open_task
from tests.webapp.meetings.helpers import hold_data, prepare
from webapp.engine.models import OpenTask
from webapp.meetings.documents import render_minutes_html
from webapp.meetings.minutes import minutes_doc
from webapp.meetings.models import Minutes, MinutesApproval


def _approvals(services):
    with services.db.session() as s:
        return s.scalars(select(OpenTask).where(OpenTask.task_spec == "approve").order_by(OpenTask.id)).all()


def _answer(services, task, answer, comment=None):
    data = {"approved": answer, **({"comment": comment} if comment else {})}
    services.engine.complete_task(task.instance_id, task.task_id, data, actor_id=task.assignee_id)


def test_minutes_corrected_and_approved_again(app, services, users, case_id):
    prepare(services, users, case_id)
    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[]), users["siri"])
    first = _approvals(services)
    _answer(services, first[0], "nei", "Anne Berg var til stede, ikke syk")
    for task in first[1:]:
        _answer(services, task, "ja")
    assert open_task(services, case_id, "finalize") is None  # not approved with a remark open
    with services.db.session() as s:
        minutes = s.scalar(select(Minutes))
        assert minutes.status == "awaiting_approval"
        assert "ikke godkjent ennå" in render_minutes_html(minutes_doc(s, minutes))

    correct = open_task(services, case_id, "correct")
    assert correct is not None and correct.assignee_id == users["siri"]  # the minute-taker
    siri = login_client(app, "siri", PASSWORD)
    url = f"/oppgaver/{correct.instance_id}/{correct.task_id}"
    page = siri.get(url).text
    assert "Anne Berg var til stede, ikke syk" in page  # the remark is shown beside the form
    assert "God start planlagt" in page  # the text to correct is filled in
    missing = siri.post(url, data={"summary": "God start planlagt", "persons_account": "Emma gleder seg",
                                   "csrf_token": siri.token})
    assert missing.status_code == 400 and 'id="f-correction-err"' in missing.text
    done = siri.post(url, data={"correction": "Anne Berg ført opp som til stede", "persons_account": "Emma gleder seg",
                                "summary": "God start planlagt, Anne til stede", "csrf_token": siri.token})
    assert done.status_code == 302

    second = _approvals(services)
    assert {t.assignee_id for t in second} == {t.assignee_id for t in first}  # the round goes again
    assert all(t.due_at.date() >= services.clock.today() for t in second)  # with a new deadline
    for task in second:
        _answer(services, task, "ja")
    complete(services, case_id, "finalize", {"confirmed": True}, users["kari"])
    with services.db.session() as s:
        minutes = s.scalar(select(Minutes))
        assert minutes.status == "approved" and minutes.content["summary"] == "God start planlagt, Anne til stede"
        assert len(s.scalars(select(MinutesApproval)).all()) == len(first) + len(second)
        pdf = minutes.archived_pdf
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("Rettelser", "Anne Berg var til stede, ikke syk", "Anne Berg ført opp som til stede",
                     "Referatet ble godkjent"):
        assert expected in text, expected


def test_a_silent_approver_in_the_second_round_is_not_counted_twice(services, users, case_id):
    """An approver who answered "nei" in round one and lets round two's deadline pass approves
    silently: their old remark does not start a third round."""
    prepare(services, users, case_id)
    complete(services, case_id, "hold_first", hold_data(services, case_id, measures=[]), users["siri"])
    first = _approvals(services)
    _answer(services, first[0], "nei", "Feil dato")
    for task in first[1:]:
        _answer(services, task, "ja")
    complete(services, case_id, "correct", {"correction": "Dato rettet", "persons_account": "x", "summary": "y"},
             users["siri"])
    services.clock.advance(timedelta(days=8))  # nobody answers round two
    services.engine.fire_due_timers()
    assert open_task(services, case_id, "approve") is None and open_task(services, case_id, "correct") is None
    assert open_task(services, case_id, "finalize") is not None
