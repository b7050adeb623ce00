#!/bin/bash
# Interop: Debian's xenstore-utils (libxenstore from Xen 4.17) against our
# xenstored on a private socket.  libxenstore takes the socket from
# XENSTORED_PATH (full path; XENSTORED_RUNDIR/socket otherwise), so no
# system path is touched.  Every client command runs under a timeout and
# the daemon is stopped here, whatever happens.
set -u
top=$(cd "$(dirname "$0")/../../.." && pwd)
daemon=${XENSTORED_BIN:-$top/build/tests/xenstored/xenstored-san}
tmp=$(mktemp -d /tmp/xenstored-interop.XXXXXX)
pid=
failures=0

cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

pass() { echo "PASS: xenstored/interop/$1"; }
fail() { echo "FAIL: xenstored/interop/$1 $2"; failures=$((failures + 1)); }
# run NAME EXPECTED-OUTPUT CMD...: output and exit status 0 both checked.
run() {
    local name=$1 want=$2 got
    shift 2
    got=$(timeout 10 "$@" 2>&1)
    local rc=$?
    if [ $rc -ne 0 ]; then
        fail "$name" "exit $rc: $got"
    elif [ "$got" != "$want" ]; then
        fail "$name" "expected [$want] got [$got]"
    else
        pass "$name"
    fi
}
# status NAME WANT-RC CMD...: only the exit status.
status() {
    local name=$1 want=$2
    shift 2
    timeout 10 "$@" >/dev/null 2>&1
    local rc=$?
    if [ $rc -eq "$want" ]; then pass "$name"; else fail "$name" "exit $rc, wanted $want"; fi
}

for tool in xenstore-write xenstore-read xenstore-ls xenstore-rm xenstore-exists \
            xenstore-chmod xenstore-watch xenstore-list; do
    command -v $tool >/dev/null || { echo "FAIL: xenstored/interop/tools $tool missing (apt-get install xenstore-utils)"; exit 1; }
done
[ -x "$daemon" ] || { echo "FAIL: xenstored/interop/daemon $daemon not built"; exit 1; }

# Refusing to pretend: without --no-domains and without /dev/xen devices.
mkdir -p "$tmp/nodev" "$tmp/fakedev"
out=$(timeout 10 "$daemon" --socket "$tmp/unused" --foreground --xen-dev-dir "$tmp/nodev" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "evtchn is missing" <<<"$out" && grep -q -- "--no-domains" <<<"$out" \
   && [ ! -e "$tmp/unused" ]; then
    pass "no_devices_exits_nonzero"
else
    fail "no_devices_exits_nonzero" "rc=$rc out=[$out]"
fi
# Files that are not the devices: the first ioctl (binding VIRQ_DOM_EXC)
# fails and the daemon says so instead of serving nothing.
touch "$tmp/fakedev/evtchn" "$tmp/fakedev/privcmd"
out=$(timeout 10 "$daemon" --socket "$tmp/unused" --foreground --xen-dev-dir "$tmp/fakedev" 2>&1)
rc=$?
if [ $rc -ne 0 ] && grep -q "cannot bind VIRQ_DOM_EXC" <<<"$out" && [ ! -e "$tmp/unused" ]; then
    pass "fake_devices_refused"
else
    fail "fake_devices_refused" "rc=$rc out=[$out]"
fi

sock=$tmp/sock
"$daemon" --socket "$sock" --no-domains --foreground --pid-file "$tmp/pid" 2>"$tmp/daemon.log" &
pid=$!
for _ in $(seq 1 100); do
    [ -S "$sock" ] && [ -s "$tmp/pid" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [ ! -S "$sock" ]; then
    echo "FAIL: xenstored/interop/start daemon did not create its socket"
    cat "$tmp/daemon.log"
    exit 1
fi
[ "$(cat "$tmp/pid")" = "$pid" ] && pass "pid_file" || fail "pid_file" "holds $(cat "$tmp/pid"), daemon is $pid"
export XENSTORED_PATH=$sock

status second_daemon_refused 1 "$daemon" --socket "$sock" --no-domains --foreground

run write_read "hello world" bash -c 'xenstore-write /t/a "hello world" && xenstore-read /t/a'
run write_many "1 2" bash -c 'xenstore-write /t/m/x 1 /t/m/y 2 && echo $(xenstore-read /t/m/x /t/m/y)'
run list "a
m" xenstore-list /t
run ls 'a = "hello world"
m = ""
 x = "1"
 y = "2"' xenstore-ls /t
run ls_full '/t/m/x = "1"
/t/m/y = "2"' xenstore-ls -f /t/m
status exists_yes 0 xenstore-exists /t/m/x
status exists_no 1 xenstore-exists /t/m/nope
status read_missing_fails 1 xenstore-read /t/nope
status bad_path_fails 1 xenstore-write "/t/bad path" v
run rm_subtree "a" bash -c 'xenstore-rm /t/m && ! xenstore-exists /t/m/x && xenstore-list /t'
# xenstore-ls pads with dots before the permissions; squeeze that away.
run chmod_perms '/t/a = "hello world" (n0,r3,w4)' bash -c \
    'xenstore-chmod /t/a n0 r3 w4 && xenstore-ls -f -p /t | sed -E "s/[ .]+\(/ (/"'
run chmod_owner 'x = "" (b5)' bash -c \
    'xenstore-write /t/o/x "" && xenstore-chmod /t/o/x b5 && xenstore-ls -p /t/o | sed -E "s/[ .]+\(/ (/"'

# Watch: the initial event, then one for a write below the watched path.
timeout 10 xenstore-watch -n 2 /t/w >"$tmp/watch.out" 2>&1 &
wpid=$!
for _ in $(seq 1 50); do [ -s "$tmp/watch.out" ] && break; sleep 0.1; done
timeout 10 xenstore-write /t/w/child v >/dev/null 2>&1
wait "$wpid"
wrc=$?
got=$(cat "$tmp/watch.out")
if [ $wrc -eq 0 ] && [ "$got" = "/t/w
/t/w/child" ]; then pass watch; else fail watch "rc=$wrc got [$got]"; fi

# A directory bigger than one message: libxenstore falls back to DIRECTORY_PART.
args=()
for i in $(seq 1 300); do args+=("/t/big/child-with-a-longish-name-$i" "$i"); done
timeout 20 xenstore-write "${args[@]}" >/dev/null 2>&1
n=$(timeout 10 xenstore-list /t/big | wc -l)
last=$(timeout 10 xenstore-read /t/big/child-with-a-longish-name-300)
if [ "$n" = 300 ] && [ "$last" = 300 ]; then pass big_directory; else fail big_directory "listed $n, last=[$last]"; fi

run rm_all "" bash -c 'xenstore-rm /t && xenstore-list / | grep -x t || true'

# Orderly stop: SIGTERM, socket and pid file gone, clean exit (ASan's leak
# check runs at exit and makes the status non-zero on a leak).
kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
    fail stop "daemon ignored SIGTERM"
else
    wait "$pid"
    rc=$?
    if [ $rc -eq 0 ] && [ ! -e "$sock" ] && [ ! -e "$tmp/pid" ]; then
        pass stop
    else
        fail stop "rc=$rc socket-left=$([ -e "$sock" ] && echo yes || echo no)"
        tail -n 20 "$tmp/daemon.log"
    fi
fi
pid=
[ $failures -eq 0 ]
