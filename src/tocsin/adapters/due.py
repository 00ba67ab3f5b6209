"""When paging work falls due, as SQL conditions on `:now`: the worker's claims select by them,
and the worker asks first whether any is due at all (views/paging.py)."""

from __future__ import annotations

from sqlalchemy import and_, bindparam, or_

from tocsin.adapters import orm
from tocsin.domain.paging import DeliveryStatus, EscalationState

_e, _d = orm.escalations, orm.deliveries
_p, _s = orm.update_promises, orm.scheduled_updates

STEP_DUE = and_(_e.c.state == EscalationState.ACTIVE.value, _e.c.next_step_at <= bindparam("now"))
# A page due, or one whose sender's lease ran out (it is sent again, same idempotency key).
PAGE_DUE = or_(
    and_(_d.c.status == DeliveryStatus.PENDING.value, _d.c.due_at <= bindparam("now")),
    and_(_d.c.status == DeliveryStatus.SENDING.value, _d.c.lease_until <= bindparam("now")),
)
PROMISE_DUE = _p.c.next_check_at <= bindparam("now")  # a reminder or deadline
REPORT_DUE = and_(_s.c.done_at.is_(None), _s.c.due_at <= bindparam("now"))
