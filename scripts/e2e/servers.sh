#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# servers.sh: the image server of the end-to-end tests, on loopback only.
#
#   servers.sh start RUNDIR ROOT_DIR IMAGE   namespace + rpcbind + ganesha + nbd-server
#   servers.sh stop RUNDIR                   stop them all (TERM), remove the namespace
#   servers.sh kill|restart nfs|nbd RUNDIR   SIGKILL one server / stop and start it again
#   servers.sh exec RUNDIR CMD...            run CMD inside the namespace (QEMU runs there)
#
# Everything runs in one network + mount namespace (unshare --net --mount)
# that holds only `lo`: nothing can reach or be reached from outside
# 127.0.0.0/8.  The guest's QEMU runs in the same namespace and reaches the
# servers through guestfwd to 127.0.0.1.  The namespace lives as long as
# its holder process (RUNDIR/ns.pid, a `sleep infinity`).  Inside it, /run
# is a private tmpfs so that rpcbind's socket and the servers' state do
# not meet the host's.
#
# RUNDIR keeps the generated configurations, the pid files and the logs
# (ganesha.log, nbd-server.log, rpcbind.log), which survive `stop`.
#
#   NFS: nfs-ganesha, FSAL VFS, export ROOT_DIR read-only as /client,
#        NFSv3 (rpcbind 111, mountd 20048) and NFSv4.1 (2049)
#   NBD: nbd-server, export "root" = IMAGE read-only (10809)
#
# Sourced by boot.sh and run.sh for the e2e_srv_* functions.  Needs root.
set -eu

e2e_nfs_port=2049
e2e_mnt_port=20048
e2e_rpcbind_port=111
e2e_nbd_port=10809
e2e_srv_timeout=${RWLAYER_E2E_SERVER_TIMEOUT:-20}

e2e_srv_log() {
	echo "servers: $*" >&2
}

e2e_srv_die() {
	e2e_srv_log "$*"
	exit 1
}

e2e_ns_pid() {
	local pid

	pid=$(cat "$1/ns.pid" 2> /dev/null) || return 1
	kill -0 "$pid" 2> /dev/null || return 1
	echo "$pid"
}

# e2e_ns_exec RUNDIR CMD...: CMD in the namespace.  nsenter enters and
# then execs CMD (no fork: no pid namespace), so `CMD &` gives CMD's pid.
e2e_ns_exec() {
	local run=$1 pid
	shift

	pid=$(e2e_ns_pid "$run") || e2e_srv_die "no namespace for $run (servers.sh start)"
	nsenter --target "$pid" --net --mount -- "$@"
}

# e2e_ns_spawn RUNDIR LOG CMD...: start CMD in the namespace in the
# background, output to LOG; e2e_spawned is its pid.  nsenter is started
# directly (not through a function, which would fork a subshell) and
# execs CMD, so the pid is CMD's own: signals reach the server.
e2e_ns_spawn() {
	local run=$1 log=$2 pid
	shift 2

	pid=$(e2e_ns_pid "$run") || e2e_srv_die "no namespace for $run (servers.sh start)"
	nsenter --target "$pid" --net --mount -- "$@" >> "$log" 2>&1 &
	e2e_spawned=$!
}

# glibc resolves Bind_addr/listenaddr with AI_ADDRCONFIG, which finds no
# address when lo holds nothing but 127.0.0.1: 127.0.0.2/8 fixes that.
e2e_ns_start() {
	local run=$1 waited=0

	rm -f "$run/ns.ready"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --net --mount --propagation private -- /bin/sh -c '
		ip link set lo up &&
		ip addr add 127.0.0.2/8 dev lo &&
		mount -t tmpfs -o mode=0755 e2e-run /run &&
		mkdir -p /run/rpcbind /run/ganesha &&
		touch "$1/ns.ready" &&
		exec sleep infinity' sh "$run" > "$run/ns.log" 2>&1 &
	echo $! > "$run/ns.pid"
	while [ ! -e "$run/ns.ready" ]; do
		kill -0 "$(cat "$run/ns.pid")" 2> /dev/null ||
			e2e_srv_die "the namespace did not come up: $(cat "$run/ns.log")"
		sleep 0.1
		waited=$((waited + 1))
		[ "$waited" -lt 100 ] || e2e_srv_die "the namespace took more than 10 s"
	done
}

# e2e_wait_port RUNDIR PORT NAME PID: until something listens on
# 127.0.0.1:PORT in the namespace; fail early if PID died.
e2e_wait_port() {
	local run=$1 port=$2 name=$3 pid=$4 start=$SECONDS

	until e2e_ns_exec "$run" ss -Hltn "sport = :$port" | grep -q .; do
		kill -0 "$pid" 2> /dev/null ||
			e2e_srv_die "$name exited before listening on $port (log: $run/$name.log)"
		[ $((SECONDS - start)) -lt "$e2e_srv_timeout" ] ||
			e2e_srv_die "$name not listening on $port after ${e2e_srv_timeout}s (log: $run/$name.log)"
		sleep 0.1
	done
}

# The settings that matter (see /work/shared/notes/test-environment.md):
# Graceless (no 90 s grace period after each start: the restart test),
# Only_Numeric_Owners (else every file shows uid 4294967294), fixed ports
# for NFSv3 so guestfwd can forward them, no NLM/RQUOTA (clients mount
# with nolock), state kept in RUNDIR across restarts.
ganesha_config() {
	local run=$1 root=$2

	mkdir -p "$run/ganesha-recovery"
	cat <<-EOF
		NFS_CORE_PARAM {
			Bind_addr = 127.0.0.1;
			NFS_Port = $e2e_nfs_port;
			MNT_Port = $e2e_mnt_port;
			Protocols = 3, 4;
			Enable_NLM = false;
			Enable_RQUOTA = false;
			Enable_UDP = false;
			Mount_Path_Pseudo = true;
		}
		NFSV4 {
			Graceless = true;
			Only_Numeric_Owners = true;
			RecoveryBackend = fs;
			RecoveryRoot = "$run/ganesha-recovery";
			Minor_Versions = 1, 2;
		}
		EXPORT {
			Export_Id = 1;
			Path = "$root";
			Pseudo = /client;
			Access_Type = RO;
			Squash = No_Root_Squash;
			Protocols = 3, 4;
			Transports = TCP;
			SecType = sys;
			FSAL {
				Name = VFS;
			}
		}
		LOG {
			Default_Log_Level = EVENT;
		}
	EOF
}

e2e_rpcbind_start() {
	local run=$1 pid

	e2e_ns_spawn "$run" "$run/rpcbind.log" rpcbind -f
	pid=$e2e_spawned
	echo "$pid" > "$run/rpcbind.pid"
	e2e_wait_port "$run" "$e2e_rpcbind_port" rpcbind "$pid"
}

# e2e_nfs_start RUNDIR [ROOT_DIR]: ROOT_DIR defaults to the one `start` got.
e2e_nfs_start() {
	local run=$1 root=${2:-} pid

	[ -n "$root" ] || root=$(cat "$run/nfs.root")
	echo "$root" > "$run/nfs.root"
	ganesha_config "$run" "$root" > "$run/ganesha.conf"
	e2e_ns_spawn "$run" "$run/ganesha.out" ganesha.nfsd -F -f "$run/ganesha.conf" \
		-L "$run/ganesha.log" -p "$run/ganesha.pidfile" -N NIV_EVENT
	pid=$e2e_spawned
	echo "$pid" > "$run/nfs.pid"
	e2e_wait_port "$run" "$e2e_nfs_port" ganesha "$pid"
	e2e_wait_port "$run" "$e2e_mnt_port" ganesha "$pid"
}

nbd_config() {
	local image=$1

	cat <<-EOF
		[generic]
		listenaddr = 127.0.0.1
		port = $e2e_nbd_port
		[root]
		exportname = $image
		readonly = true
	EOF
}

# -d: stay in the foreground, so the pid is ours to signal.
e2e_nbd_start() {
	local run=$1 image=${2:-} pid

	[ -n "$image" ] || image=$(cat "$run/nbd.image")
	echo "$image" > "$run/nbd.image"
	nbd_config "$image" > "$run/nbd-server.conf"
	e2e_ns_spawn "$run" "$run/nbd-server.log" nbd-server -d -C "$run/nbd-server.conf"
	pid=$e2e_spawned
	echo "$pid" > "$run/nbd.pid"
	e2e_wait_port "$run" "$e2e_nbd_port" nbd-server "$pid"
}

# e2e_srv_signal RUNDIR nfs|nbd|rpcbind SIGNAL: signal the server and wait
# until it is gone (the next start needs its port).
e2e_srv_signal() {
	local run=$1 name=$2 sig=$3 pid n=0

	pid=$(cat "$run/$name.pid" 2> /dev/null) || return 0
	rm -f "$run/$name.pid"
	kill "-$sig" "$pid" 2> /dev/null || return 0
	while kill -0 "$pid" 2> /dev/null; do
		n=$((n + 1))
		if [ "$n" -eq $((e2e_srv_timeout * 10)) ]; then
			e2e_srv_log "$name (pid $pid) ignored SIG$sig for ${e2e_srv_timeout}s: SIGKILL"
			kill -KILL "$pid" 2> /dev/null || true
		fi
		sleep 0.1
	done
	wait "$pid" 2> /dev/null || true
}

e2e_srv_start() {
	local run=$1 root=$2 image=$3

	[ "$(id -u)" = 0 ] || e2e_srv_die "needs root"
	[ -d "$root" ] || e2e_srv_die "no client root directory $root"
	[ -f "$image" ] || e2e_srv_die "no client root image $image"
	command -v ganesha.nfsd > /dev/null || e2e_srv_die "nfs-ganesha missing: scripts/deps.sh (deps_e2e)"
	mkdir -p "$run"
	e2e_ns_pid "$run" > /dev/null && e2e_srv_die "servers already running for $run"
	e2e_ns_start "$run"
	e2e_rpcbind_start "$run"
	e2e_nfs_start "$run" "$root"
	e2e_nbd_start "$run" "$image"
	e2e_srv_log "up in namespace $(cat "$run/ns.pid"): NFS $root, NBD $image, logs in $run"
}

e2e_srv_stop() {
	local run=$1 pid

	e2e_srv_signal "$run" nfs TERM
	e2e_srv_signal "$run" nbd TERM
	e2e_srv_signal "$run" rpcbind TERM
	pid=$(e2e_ns_pid "$run") || return 0
	kill "$pid" 2> /dev/null || true
	rm -f "$run/ns.pid"
}

# e2e_srv_kill RUNDIR nfs|nbd: a crash, no clean shutdown.
e2e_srv_kill() {
	e2e_srv_signal "$1" "$2" KILL
}

# e2e_srv_restart RUNDIR nfs|nbd: a clean stop and a start with the same
# export (ganesha's state directory stays: its clients reclaim).
e2e_srv_restart() {
	e2e_srv_signal "$1" "$2" TERM
	"e2e_${2}_start" "$1"
}

e2e_srv_main() {
	local cmd=${1:-}

	case "$cmd" in
	start)
		[ $# -eq 4 ] || e2e_srv_die "usage: servers.sh start RUNDIR ROOT_DIR IMAGE"
		e2e_srv_start "$2" "$3" "$4"
		;;
	stop)
		[ $# -eq 2 ] || e2e_srv_die "usage: servers.sh stop RUNDIR"
		e2e_srv_stop "$2"
		;;
	kill | restart)
		[ $# -eq 3 ] || e2e_srv_die "usage: servers.sh $cmd nfs|nbd RUNDIR"
		case "$2" in nfs | nbd) ;; *) e2e_srv_die "unknown server '$2': nfs|nbd" ;; esac
		"e2e_srv_$cmd" "$3" "$2"
		;;
	exec)
		[ $# -ge 3 ] || e2e_srv_die "usage: servers.sh exec RUNDIR CMD..."
		shift
		e2e_ns_exec "$@"
		;;
	*) e2e_srv_die "usage: servers.sh start|stop|kill|restart|exec ..." ;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	e2e_srv_main "$@"
fi
