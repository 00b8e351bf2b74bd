"""Stateful runs over the spec's links, with a model of the expected checkout status."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import settings
from schemathesis import GenerationMode

from neuropay_contract.contract.checks import note_failure
from neuropay_contract.contract.client import SILENT_AFTER, Recorder
from neuropay_contract.contract.fuzz import StatusModel, load_schema, record
from neuropay_contract.contract.plugin import RESULTS_KEY, np_settings
from neuropay_contract.contract.settings import PROFILES


@pytest.mark.np_check(category="stateful", operation=None)
def test_link_driven_sequences(
    pytestconfig: pytest.Config, np_target: Any, st_session: Any
) -> None:
    """schemathesis chains operations through the links (create → pay → capture → refund …); every
    answer passes its checks and every status matches what x-lifecycle predicts."""
    made = pytestconfig.stash[RESULTS_KEY].recorder
    assert made is not None  # np_target made it
    recorder: Recorder = made  # typed for the state machine's methods below
    spec = np_target.spec
    state = pytestconfig.stash[RESULTS_KEY]
    # Links into operations the target lacks (or that are outside --operations, or that gave
    # no answer twice) would only repeat what the preflight or earlier checks reported.
    available = [
        op
        for op in spec.operations
        if op not in state.unavailable and recorder.timeouts[op] < SILENT_AFTER
    ]
    schema = load_schema(spec).include(operation_id=available)
    # Negative data is fuzzed per operation in test_fuzz; here links fill ids into the bodies,
    # which would turn a mutated field back into a valid one and make the verdict meaningless.
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    base = schema.as_state_machine()
    by_path = {(op.method, op.path): op.operation_id for op in spec.operations.values()}

    class Machine(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            self.model = StatusModel(spec)
            recorder.restart_sequence()  # each run reproduces alone; the count covers all

        def before_call(self, case: Any) -> None:
            # Fuzzed Idempotency-Keys repeat ('*', 'a'...): a replayed create would answer an
            # object a later step deleted. Each stateful call gets its own key instead.
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = f"stateful-{uuid.uuid4()}"

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {
                "base_url": np_target.url,
                "headers": {"Authorization": f"Bearer {np_target.api_key}"},
                "session": st_session,
                "timeout": np_target.timeout,
            }

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            operation = by_path.get((str(case.method).upper(), case.path), case.path)
            record(recorder, case, response, operation, np_target.url)
            try:
                super().validate_response(
                    response, case, additional_checks=additional_checks, **kwargs
                )
            except Exception as exc:
                note_failure(exc)
                raise
            try:
                answer = response.json()
            except Exception:
                answer = None
            self.model.observe(operation, case.body, int(response.status_code), answer)

    profile = PROFILES[np_target.profile]
    Machine.run(
        settings=settings(
            np_settings(),
            max_examples=max(5, profile["examples"] * 2),
            stateful_step_count=profile["stateful_steps"],
        )
    )
