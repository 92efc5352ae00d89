"""Handlers that send messages to the people of a case."""
from __future__ import annotations

from sqlalchemy import select

from handlers.context import HandlerContext
from handlers.registry import handler
from webapp import library_texts
from webapp.auth.models import User
from webapp.cases.models import CaseMember


@handler("notify_role")
def notify_role(ctx: HandlerContext, role: str, subject: str, body: str = "") -> dict:
    """E-mail every active member of the case who holds ``role`` and has an address.

    ``subject`` and ``body`` come from the diagram. The body reaches only addresses in the
    municipality's own domains; everybody else gets the outbox's content-free notice with the case
    reference and a link to the case (no health content in plain e-mail). Both are sent in the
    recipient's language when the library's catalogues translate them (the language on the
    member's account; bokmål without one)."""
    members = ctx.session.scalars(select(CaseMember).where(
        CaseMember.case_id == ctx.case.id, CaseMember.role == role, CaseMember.active.is_(True)))
    sent = 0
    for member in members:
        if member.email:
            user = ctx.session.get(User, member.user_id) if member.user_id else None
            lang = user.language if user is not None and user.language else "nb"
            ctx.outbox.send(member.email, library_texts.translate(subject, lang), library_texts.translate(body, lang))
            sent += 1
    return {"sent": sent}
