"""Checks the ispvm-sim simulator with librouteros, an independent RouterOS API client.

Our Rust client and the simulator are written against the same reading of MikroTik's API
manual; if that reading were wrong, they could agree with each other and still be wrong. This
check talks to a running simulator (serving routeros/tests/fixtures/fleet.toml) with
librouteros from PyPI: both login methods, API-SSL with certificate verification, prints with
.proplist and queries, traps, counters, and RouterOS 7.18's !empty.

Usage: librouteros_check.py --ready READY_FILE --cert-dir DIR --username U --password P
(scripts/routeros-interop.sh starts the simulator and runs this.)
"""

import argparse
import importlib.metadata
import socket
import ssl
import sys
import time

import librouteros
from librouteros.exceptions import TrapError
from librouteros.login import plain, token
from librouteros.query import Key, Or

FAILURES = []


def check(condition, message):
    print(("ok:   " if condition else "FAIL: ") + message, flush=True)
    if not condition:
        FAILURES.append(message)


def read_ready(path):
    """name -> (host, port, tls, version) from the simulator's ready file."""
    routers = {}
    with open(path, encoding="utf-8") as ready:
        for line in ready:
            name, address, tls, version = line.split()
            host, port = address.rsplit(":", 1)
            routers[name] = (host, int(port), tls == "tls", version)
    return routers


def connect(routers, name, args, **extra):
    host, port, _, version = routers[name]
    # The fleet's v6 routers use the pre-6.43 MD5 challenge, v7 the plain login.
    method = token if version.startswith("6.") else plain
    return librouteros.connect(
        host, args.username, args.password, port=port, login_method=method, timeout=5, **extra
    )


def check_v7_core(routers, args):
    api = connect(routers, "tst-core-1", args)
    resource = list(api.path("system", "resource"))
    check(len(resource) == 1, "v7 plain login, /system/resource/print gives one item")
    check(str(resource[0].get("version", "")).startswith("7.16.2"), "version is 7.16.2")
    check(isinstance(resource[0].get("cpu-load"), int), "cpu-load is a number")

    name, rx = Key("name"), Key("rx-byte")
    uplink = list(api.path("interface").select(name, rx).where(name == "sfp-sfpplus1"))
    check(len(uplink) == 1, "?=name=sfp-sfpplus1 selects one interface")
    check(set(uplink[0]) == {"name", "rx-byte"}, ".proplist returns only name and rx-byte")
    first = uplink[0]["rx-byte"]
    time.sleep(1.1)
    again = list(api.path("interface").select(rx).where(name == "sfp-sfpplus1"))[0]["rx-byte"]
    check(again > first > 0, f"rx-byte rises between polls ({first} -> {again})")

    both = list(
        api.path("interface")
        .select(name)
        .where(Or(name == "ether1", name == "sfp-sfpplus1"))
    )
    check(
        sorted(r["name"] for r in both) == ["ether1", "sfp-sfpplus1"],
        "?#| combines two equality tests",
    )
    not_ether = list(api.path("interface").select(name).where(Key("type") != "ether"))
    check(not_ether == [], "?#! negates (every port of this router is ether)")

    running = {r["name"]: r["running"] for r in api.path("interface")}
    check(running.get("sfp-sfpplus1") is True, "a linked port is running=true")
    check(running.get("sfp-sfpplus4") is False, "an unused port is running=false")

    identities = sorted(r["identity"] for r in api.path("ip", "neighbor"))
    check(identities == ["tst-bng-1", "tst-core-2"], "/ip/neighbor lists the linked routers")
    sessions = list(api.path("routing", "bgp", "session"))
    check(
        all(r.get("established") is True for r in sessions),
        f"/routing/bgp/session/print: {len(sessions)} established session(s)",
    )
    try:
        list(api("/ip/adress/print"))
        check(False, "an unknown menu traps")
    except TrapError as trap:
        check(trap.message == "no such command prefix", "an unknown menu traps: no such command prefix")
    api.close()


def check_v6_bng(routers, args):
    api = connect(routers, "tst-bng-1", args)
    sessions = list(api.path("ppp", "active"))
    check(30 <= len(sessions) <= 40, f"v6 MD5 challenge login; {len(sessions)} of 40 PPPoE sessions up")
    counted = list(api("/ppp/active/print", **{"count-only": ""}))
    check(counted == [{"ret": len(sessions)}], "count-only returns the same number in =ret=")
    peers = list(api.path("routing", "bgp", "peer"))
    check(peers == [], "v6 has /routing/bgp/peer (no peers on this router)")
    api.close()


def check_empty(routers, args):
    api = connect(routers, "tst-cpe-1", args)
    check(list(api.path("ppp", "active")) == [], "7.18 !empty then !done reads as no items")
    registrations = list(api.path("interface", "wifi", "registration-table"))
    check(
        [r.get("ssid") for r in registrations] == ["bng-cpe-radio"],
        "the v7 wifi CPE is registered to its access point",
    )
    api.close()


def check_tls(routers, args):
    host, port, tls, _ = routers["tst-core-2"]
    check(tls, "tst-core-2 serves API-SSL")
    with open(f"{args.cert_dir}/tst-core-2.der", "rb") as der:
        pem = ssl.DER_cert_to_PEM_cert(der.read())
    context = ssl.create_default_context(cadata=pem)

    def wrap(sock):
        return context.wrap_socket(sock, server_hostname=host)

    api = connect(routers, "tst-core-2", args, ssl_wrapper=wrap)
    identity = list(api.path("system", "identity"))
    check(identity == [{"name": "tst-core-2"}], "API-SSL with the certificate verified")
    api.close()

    untrusting = ssl.create_default_context()
    try:
        connect(routers, "tst-core-2", args, ssl_wrapper=lambda s: untrusting.wrap_socket(s, server_hostname=host))
        check(False, "an untrusted certificate is refused")
    except ssl.SSLCertVerificationError:
        check(True, "an untrusted certificate is refused")


def check_bad_password(routers, args):
    host, port, _, _ = routers["tst-core-1"]
    try:
        librouteros.connect(host, args.username, "wrong", port=port, login_method=plain, timeout=5)
        check(False, "a wrong password is refused")
    except TrapError as trap:
        check("invalid user name or password" in trap.message, f"a wrong password is refused: {trap.message}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ready", required=True)
    parser.add_argument("--cert-dir", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    args = parser.parse_args()
    routers = read_ready(args.ready)
    version = importlib.metadata.version("librouteros")
    print(f"librouteros {version} against {len(routers)} simulated routers")
    socket.setdefaulttimeout(10)
    for step in (check_v7_core, check_v6_bng, check_empty, check_tls, check_bad_password):
        try:
            step(routers, args)
        except Exception as error:  # a crash in one step is a failure, the others still run
            check(False, f"{step.__name__} raised {type(error).__name__}: {error}")
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed", file=sys.stderr)
        sys.exit(1)
    print("all librouteros checks passed")


if __name__ == "__main__":
    main()
