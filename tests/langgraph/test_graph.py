"""A real LangGraph `StateGraph` on `MemvaultSaver`: an interrupt resumed with `Command`, a
replay and a fork from an earlier checkpoint (time travel), sync and async, on every engine;
and the graph's state surviving a new process's saver (a reopened vault)."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import memvault


class State(TypedDict):
    log: Annotated[list[str], operator.add]
    answer: str


def _graph(saver: Any) -> Any:
    from langgraph.graph import END, START, StateGraph
    from langgraph.types import interrupt

    def plan(state: State) -> dict[str, Any]:
        return {"log": ["plan"]}

    def ask(state: State) -> dict[str, Any]:
        answer = interrupt({"question": "go on?"})
        return {"log": [f"ask:{answer}"], "answer": str(answer)}

    def act(state: State) -> dict[str, Any]:
        return {"log": [f"act:{state['answer']}"]}

    builder = StateGraph(State)
    builder.add_node("plan", plan)
    builder.add_node("ask", ask)
    builder.add_node("act", act)
    builder.add_edge(START, "plan")
    builder.add_edge("plan", "ask")
    builder.add_edge("ask", "act")
    builder.add_edge("act", END)
    return builder.compile(checkpointer=saver)


def _story(saver: Any) -> list[Any]:
    """Interrupt, resume, replay from before the interrupt, resume the replay differently,
    edit the past; what the graph showed at each step."""
    from langgraph.types import Command

    graph = _graph(saver)
    config: Any = {"configurable": {"thread_id": "trip"}}
    seen: list[Any] = []
    first = graph.invoke({"log": [], "answer": ""}, config)
    seen.append(("interrupt", first["__interrupt__"][0].value, graph.get_state(config).next))
    seen.append(("resumed", graph.invoke(Command(resume="yes"), config)["log"]))
    history = list(graph.get_state_history(config))
    seen.append(("history", [(h.metadata["step"], h.next) for h in history]))
    before_ask = next(h for h in history if h.next == ("ask",))
    # Time travel: replaying from the checkpoint before `ask` stops at the interrupt again,
    # on a new branch; resuming that branch answers differently; the old branch stays.
    again = graph.invoke(None, before_ask.config)
    seen.append(("replayed", again["log"], "__interrupt__" in again))
    seen.append(("forked", graph.invoke(Command(resume="no"), config)["log"]))
    seen.append(("old branch", graph.get_state(history[0].config).values["log"]))
    edited = graph.update_state(before_ask.config, {"log": ["edited"]})
    seen.append(("edited", graph.get_state(edited).values["log"], graph.get_state(edited).next))
    seen.append(("steps", [h.metadata["step"] for h in graph.get_state_history(config)]))
    return seen


def test_interrupt_resume_and_time_travel(graph_vault: memvault.Vault) -> None:
    from langgraph.checkpoint.memory import InMemorySaver

    from memvault.langgraph import MemvaultSaver

    with MemvaultSaver(graph_vault) as saver:
        story = _story(saver)
    assert story[0] == ("interrupt", {"question": "go on?"}, ("ask",))
    assert story[1] == ("resumed", ["plan", "ask:yes", "act:yes"])
    assert story[2] == ("history", [(3, ()), (2, ("act",)), (1, ("ask",)), (0, ("plan",)),
                                    (-1, ("__start__",))])  # fmt: skip
    assert story[3] == ("replayed", ["plan"], True)
    assert story[4] == ("forked", ["plan", "ask:no", "act:no"])
    assert story[5] == ("old branch", ["plan", "ask:yes", "act:yes"])
    assert story[6] == ("edited", ["plan", "edited"], ("ask",))
    # LangGraph's own in-memory saver tells the same story, step for step.
    assert story == _story(InMemorySaver())


def test_the_async_graph_resumes_after_the_vault_is_reopened(
    graph_vault: memvault.Vault, vault_url: str
) -> None:
    from langgraph.types import Command

    from memvault.langgraph import MemvaultSaver

    config: Any = {"configurable": {"thread_id": "async-trip"}}

    async def start() -> None:
        async with MemvaultSaver(graph_vault) as saver:
            out = await _graph(saver).ainvoke({"log": [], "answer": ""}, config)
            assert "__interrupt__" in out

    async def resume() -> dict[str, Any]:
        saver = MemvaultSaver.from_url(vault_url)  # another vault: only the store is shared
        async with saver:
            graph = _graph(saver)
            assert (await graph.aget_state(config)).next == ("ask",)
            result: dict[str, Any] = await graph.ainvoke(Command(resume="ok"), config)
            states = [s async for s in graph.aget_state_history(config)]
            assert len(states) == 5
            return result

    asyncio.run(start())
    assert asyncio.run(resume())["log"] == ["plan", "ask:ok", "act:ok"]
