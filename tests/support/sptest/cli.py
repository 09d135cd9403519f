# -*- coding: utf-8 -*-
"""Command line: start (foreground or --daemon) and stop the SharePoint/Graph test server."""

import argparse
import json
import os
import signal
import sys
import threading
import time

from .people import load_people_file
from .server import SPTestServer


def _parser():
    p = argparse.ArgumentParser(
        prog="sptestserver.py",
        description="SharePoint (on-premises + Online) and Microsoft Graph test server on loopback. "
                    "Writes STATE_DIR/sp.json describing URLs, credentials and people.")
    p.add_argument("command", nargs="?", default="start", choices=["start", "stop", "status"])
    p.add_argument("--state-dir", default=os.environ.get("SPTEST_STATE_DIR", "/tmp/photosync-sp"))
    p.add_argument("--port", type=int, default=8443, help="HTTPS port (0 = any free port)")
    p.add_argument("--http-port", type=int, default=None, help="also serve plain HTTP on this port (0 = any)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--people-file", help="JSON list of people (or {\"people\": [...]})")
    p.add_argument("--people-from-dc", help="the Samba test DC's dc.json: every user gets a SharePoint photo")
    p.add_argument("--generate", type=int, default=0, help="add N synthetic people bulk0001..")
    p.add_argument("--odata", default="auto", choices=["auto", "verbose", "nometadata", "minimal"])
    p.add_argument("--onprem-version", default="2016", choices=["2013", "2016", "2019", "SE"])
    p.add_argument("--batch", default="auto", choices=["auto", "on", "off"],
                   help="SharePoint $batch: auto = on, except on-premises with --onprem-version 2013")
    p.add_argument("--batch-refusal", type=int, default=404, choices=[400, 404, 405, 501],
                   help="the status a SharePoint without $batch answers POST /_api/$batch with")
    p.add_argument("--startrow-cap", type=int, default=50000)
    p.add_argument("--folder-threshold", type=int, default=5000)
    p.add_argument("--ntlm-epa", default="off", choices=["off", "required"])
    p.add_argument("--hashes", default="explicit", choices=["none", "explicit", "all"],
                   help="which people get photo sha256 values in sp.json (all = slow for thousands)")
    p.add_argument("--domain", help="NetBIOS domain of the NTLM accounts (default: from the people, else EXAMPLE)")
    p.add_argument("--realm", help="DNS realm for UPNs of generated people (default example.test)")
    p.add_argument("--ca-cert"), p.add_argument("--ca-key")
    p.add_argument("--tls-cert"), p.add_argument("--tls-key")
    p.add_argument("--daemon", action="store_true", help="detach; return once sp.json is written")
    p.add_argument("--pid-file", help="default STATE_DIR/sp.pid")
    p.add_argument("--verbose", action="store_true", help="log requests to stderr")
    return p


def _pid_file(args):
    return args.pid_file or os.path.join(args.state_dir, "sp.pid")


def _read_pid(path):
    try:
        with open(path) as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def _is_ours(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            return b"sptest" in handle.read()
    except OSError:
        return False


def stop(args):
    path = _pid_file(args)
    pid = _read_pid(path)
    if pid is None:
        print("no pid file %s: not running" % path)
        return 0
    if not _is_ours(pid):
        print("pid %d from %s is not the test server; removing stale pid file" % (pid, path))
        os.unlink(path)
        return 0
    os.kill(pid, signal.SIGTERM)
    for dummy in range(100):
        if not os.path.exists("/proc/%d" % pid) or not _is_ours(pid):
            break
        time.sleep(0.05)
    else:
        print("pid %d did not stop" % pid, file=sys.stderr)
        return 1
    if os.path.exists(path):
        os.unlink(path)
    print("stopped %d" % pid)
    return 0


def _make_server(args):
    people = load_people_file(args.people_file) if args.people_file else None
    return SPTestServer(
        args.state_dir, port=args.port, people=people, generate=args.generate, odata=args.odata,
        http=args.http_port is not None, http_port=args.http_port or 0, people_from_dc=args.people_from_dc,
        onprem_version=args.onprem_version, startrow_cap=args.startrow_cap, folder_threshold=args.folder_threshold,
        ntlm_epa=args.ntlm_epa, ca_cert=args.ca_cert, ca_key=args.ca_key, tls_cert=args.tls_cert,
        tls_key=args.tls_key, host=args.host, verbose=args.verbose, domain=args.domain, realm=args.realm,
        batch=args.batch, batch_refusal=args.batch_refusal)


def serve(args, ready_fd=None):
    server = _make_server(args)
    server.start()
    stop_event = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    signal.signal(signal.SIGINT, lambda *_: stop_event.set())
    path = server.write_description(hashes=args.hashes)
    pid_path = _pid_file(args)
    with open(pid_path + ".tmp", "w") as handle:
        handle.write("%d\n" % os.getpid())
    os.replace(pid_path + ".tmp", pid_path)
    msg = "sptestserver ready at %s (sp.json: %s, pid %d)" % (server.url, path, os.getpid())
    if ready_fd is not None:
        os.write(ready_fd, (msg + "\n").encode("utf-8"))
        os.close(ready_fd)
    else:
        print(msg, flush=True)
    try:
        while not stop_event.wait(0.5):
            pass
    finally:
        server.stop()
        if _read_pid(pid_path) == os.getpid():
            os.unlink(pid_path)
    return 0


def daemonize(args):
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_fd)
        chunks = []
        while True:
            chunk = os.read(read_fd, 4096)
            if not chunk:
                break
            chunks.append(chunk)
        os.waitpid(pid, 0)
        out = b"".join(chunks).decode("utf-8", "replace")
        if "ready" not in out:
            sys.stderr.write("sptestserver failed to start; see %s\n%s" % (
                os.path.join(args.state_dir, "server.log"), out))
            return 1
        sys.stdout.write(out)
        return 0
    os.close(read_fd)
    os.setsid()
    if os.fork():
        os._exit(0)
    os.makedirs(args.state_dir, exist_ok=True)
    log = os.open(os.path.join(args.state_dir, "server.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    try:
        code = serve(args, ready_fd=write_fd)
    except BaseException as exc:  # report why, to the waiting parent and the log
        import traceback
        traceback.print_exc()
        try:
            os.write(write_fd, ("error: %s\n" % exc).encode("utf-8"))
        except OSError:
            pass
        code = 1
    os._exit(code)


def main(argv=None):
    args = _parser().parse_args(argv)
    args.state_dir = os.path.abspath(args.state_dir)
    if args.command == "stop":
        return stop(args)
    if args.command == "status":
        pid = _read_pid(_pid_file(args))
        running = pid is not None and _is_ours(pid)
        print(json.dumps({"running": running, "pid": pid}))
        return 0 if running else 3
    if args.daemon:
        return daemonize(args)
    return serve(args)
