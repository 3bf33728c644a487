"""The LangChain suites run offline, as LangChain runs them (pytest-socket's
`--disable-socket --allow-unix-socket`), while the rest of memvault's suite keeps its network
(loopback HTTP servers): the blocking is scoped to this folder by its conftest."""

from __future__ import annotations

import asyncio
import socket

import pytest
from pytest_socket import SocketBlockedError


def test_a_network_socket_is_refused_here() -> None:
    # pytest-socket warns as it raises; the suite turns warnings into errors.
    with pytest.raises(SocketBlockedError), pytest.warns(UserWarning, match="socket"):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with pytest.raises(SocketBlockedError), pytest.warns(UserWarning, match="getaddrinfo"):
        socket.getaddrinfo("example.com", 443)


def test_unix_sockets_and_so_asyncio_still_work() -> None:
    a, b = socket.socketpair()
    a.close()
    b.close()
    assert asyncio.run(asyncio.sleep(0, result="ran")) == "ran"


async def test_an_async_test_gets_its_event_loop() -> None:
    assert await asyncio.sleep(0, result=1) == 1
