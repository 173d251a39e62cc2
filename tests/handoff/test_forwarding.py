"""ForwardingDesk passes every method of the AgentDesk port to its inner desk unchanged: a
method added to the port without forwarding fails here, not in a wrapper in production."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from handoff.forwarding import ForwardingDesk
from handoff.ports import AgentDesk

PORT_METHODS = sorted(
    name
    for name, member in vars(AgentDesk).items()
    if not name.startswith("_") and inspect.iscoroutinefunction(member)
)


class Echo:
    """Any desk method: records the call and answers with a value of its own."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[object, ...], dict[str, object]]] = []

    def __getattr__(self, name: str) -> Any:  # any method of any desk
        async def method(*args: object, **kwargs: object) -> object:
            self.calls.append((name, args, kwargs))
            return f"answer of {name}"

        return method


def test_the_port_has_methods() -> None:
    assert {"open_handoff", "relay_many", "react"} <= set(PORT_METHODS)


def test_satisfies_the_port() -> None:
    desk: AgentDesk = ForwardingDesk(inner=Echo())  # mypy checks the Protocol here
    assert isinstance(desk, ForwardingDesk)


@pytest.mark.parametrize("name", PORT_METHODS)
async def test_forwards_every_method_with_its_arguments_and_answer(name: str) -> None:
    inner = Echo()
    desk = ForwardingDesk(inner=inner)
    assert name in vars(ForwardingDesk), f"ForwardingDesk does not forward {name}"
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for parameter in list(inspect.signature(getattr(AgentDesk, name)).parameters.values())[1:]:
        value = object()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = value
        else:
            args.append(value)
    answer = await getattr(desk, name)(*args, **kwargs)
    assert inner.calls == [(name, tuple(args), kwargs)]
    if inspect.signature(getattr(AgentDesk, name)).return_annotation != "None":
        assert answer == f"answer of {name}"
