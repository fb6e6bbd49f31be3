"""Finding the process at the other end of a loopback connection (lambdasmith.local.peers): in this
process, in a child, in a grandchild through the process tree, and not in a process outside it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from lambdasmith.local import peers

pytestmark = pytest.mark.skipif(not peers.available(), reason="needs Linux /proc")

# Connects to 127.0.0.1:argv[1], says its PID, and holds the connection until the other end closes.
CONNECT = (
    "import os, socket, sys\n"
    "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
    "s.sendall(b'%d\\n' % os.getpid())\n"
    "s.recv(1)\n"
)
# Runs CONNECT in a child of its own and waits for it (so the connecting process is a grandchild).
VIA_CHILD = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {CONNECT!r}, sys.argv[1]])\n"
# Starts CONNECT in a new session and exits at once: the connecting process is reparented away.
DAEMON = f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {CONNECT!r}, sys.argv[1]], start_new_session=True)\n"


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        s.settimeout(10)
        yield s


def accept_from(listener: socket.socket, script: str) -> tuple[subprocess.Popen, socket.socket, int]:
    """Start `script` (given the port), accept its connection: (process, our end, the PID it said)."""
    proc = subprocess.Popen([sys.executable, "-c", script, str(listener.getsockname()[1])])
    conn, _ = listener.accept()
    conn.settimeout(10)
    said = conn.makefile("rb").readline()
    return proc, conn, int(said)


def test_a_socket_of_this_process_is_found(listener):
    with socket.create_connection(listener.getsockname()) as client:
        conn, _ = listener.accept()
        with conn:
            assert peers.peer_inode(conn) == os.fstat(client.fileno()).st_ino
            assert peers.peer_pid(conn, [os.getpid()]) == os.getpid()
            assert peers.peer_pid(conn, []) is None


def test_a_child_is_found_through_the_process_tree(listener):
    proc, conn, pid = accept_from(listener, CONNECT)
    with conn:
        assert pid == proc.pid
        tree = peers.process_tree(os.getpid())
        assert {os.getpid(), proc.pid} <= tree
        assert peers.peer_pid(conn, tree) == proc.pid
    proc.wait(10)


def test_a_grandchild_is_found_through_the_process_tree(listener):
    proc, conn, pid = accept_from(listener, VIA_CHILD)
    with conn:
        assert pid != proc.pid
        tree = peers.process_tree(proc.pid)
        assert tree == {proc.pid, pid}
        assert peers.peer_pid(conn, tree) == pid
        assert peers.peer_pid(conn, [proc.pid]) is None  # the child does not hold it: its child does
    proc.wait(10)


def test_a_process_outside_the_tree_is_not_found(listener):
    proc, conn, pid = accept_from(listener, DAEMON)
    with conn:
        proc.wait(10)  # gone: the connecting process now belongs to no one of ours
        ours = peers.process_tree(os.getpid())
        assert pid not in ours
        assert peers.peer_inode(conn) is not None
        assert peers.peer_pid(conn, ours) is None
        assert peers.holder(peers.peer_inode(conn) or 0, peers.all_pids()) == pid  # a full scan does find it


def test_both_ways_of_walking_the_tree_agree(listener):
    proc, conn, pid = accept_from(listener, VIA_CHILD)
    with conn:
        assert peers.process_tree(proc.pid) == peers._tree_by_parent(proc.pid) == {proc.pid, pid}
    proc.wait(10)


def test_a_gone_process_has_no_tree_and_no_command_line():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(10)
    assert peers.process_tree(proc.pid) == set()
    assert peers.cmdline(proc.pid) is None
    assert peers.holder(1, [proc.pid]) is None


@pytest.mark.skipif(not socket.has_ipv6, reason="needs IPv6")
def test_ipv6_and_ipv4_mapped_peers_are_found():
    try:
        listener6 = socket.socket(socket.AF_INET6)
        listener6.bind(("::1", 0))
    except OSError:
        pytest.skip("no ::1")
    with listener6:
        listener6.listen()
        with socket.create_connection(listener6.getsockname()[:2]) as client:
            conn, _ = listener6.accept()
            with conn:
                assert peers.peer_pid(conn, [os.getpid()]) == os.getpid()
                assert peers.peer_inode(conn) == os.fstat(client.fileno()).st_ino
    with socket.socket(socket.AF_INET6) as dual:  # a dual-stack server sees ::ffff:127.0.0.1
        dual.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        dual.bind(("::", 0))
        dual.listen()
        with socket.create_connection(("127.0.0.1", dual.getsockname()[1])) as client:
            conn, peer = dual.accept()
            with conn:
                assert peer[0] == "::ffff:127.0.0.1"
                assert peers.peer_inode(conn) == os.fstat(client.fileno()).st_ino


def test_command_line_has_its_control_characters_escaped():
    script = "import sys; print(flush=True); sys.stdin.read()"
    proc = subprocess.Popen([sys.executable, "-c", script, "a\nb\x1b[31m", "tab\there"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"\n"  # running: its own command line
        line = peers.cmdline(proc.pid)
        assert line is not None
        assert line.endswith(f" -c {script} a\\nb\\x1b[31m tab\\there")
        assert line.isprintable()
    finally:
        proc.communicate(b"")
