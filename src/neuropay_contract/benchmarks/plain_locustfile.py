"""`make bench-load`'s baseline: a plain Locust file sending the same journeys as `neuropay load`
(the same :class:`Journeys` and the same request bytes, from ``load.wire``) with no check, no
exchange record and no model: what Locust alone drives. Only Locust's own process imports it
(Locust patches with gevent)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import Any

import gevent
from locust import FastHttpUser, constant, task

from neuropay_contract.contract.reach import PaymentMeans
from neuropay_contract.load.journeys import DEFAULT_MIX, Call, Journeys, JourneyStopped, Reply
from neuropay_contract.load.wire import Credential, body_of, extra_headers, parse_answer
from neuropay_contract.spec import load_spec
from neuropay_contract.traffic.exchange import KeyLabels

SPEC = load_spec()
JOURNEYS = Journeys(SPEC, PaymentMeans.from_spec(SPEC))
CREDENTIAL = Credential(os.environ.get("NEUROPAY_API_KEY", ""), KeyLabels())


class PlainSession:
    def __init__(self, user: FastHttpUser) -> None:
        self.user = user

    def call(self, call: Call) -> Reply:
        op = SPEC.operation(call.operation)
        extra = extra_headers(call, SPEC.idempotency.header)
        with self.user.client.request(
            op.method,
            op.path,
            data=body_of(call),  # type: ignore[arg-type]
            headers={**CREDENTIAL.headers, **extra} if extra else CREDENTIAL.headers,
            name=call.step,
            catch_response=True,
        ) as response:
            status = int(response.status_code or 0)
            answer = parse_answer((response.content or b"") if status else b"")
            response.success()
        return Reply(status, answer)

    def parallel(self, calls: Sequence[Call]) -> list[Reply]:
        greenlets = [gevent.spawn(self.call, c) for c in calls]
        gevent.joinall(greenlets, raise_error=True)
        return [g.value for g in greenlets]


def _user(name: str, weight: int) -> type[FastHttpUser]:
    run: Any = JOURNEYS.available()[name]

    class PlainUser(FastHttpUser):
        wait_time = constant(0)

        @task
        def journey(self) -> None:
            with contextlib.suppress(JourneyStopped):
                run(PlainSession(self))

    PlainUser.__name__ = PlainUser.__qualname__ = f"Plain_{name}"
    PlainUser.weight = weight
    return PlainUser


for _name, _weight in DEFAULT_MIX.items():
    if _name in JOURNEYS.available():
        globals()[f"Plain_{_name}"] = _user(_name, _weight)

gevent.get_hub().loop.update_now()  # the spec load above must not shorten --run-time
