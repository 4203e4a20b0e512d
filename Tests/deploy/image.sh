#!/usr/bin/env bash
# The image's runtime stage (deploy/Dockerfile), built and run with podman on this machine.
# No registry is reachable here, so neither base image can be pulled: the runtime base is a
# Debian bookworm bootstrapped locally (debootstrap --variant=minbase from the Debian mirror,
# cached in /var/cache/dongfeng-deploy) and imported as localhost/debian:bookworm-slim, and the
# build stage's output (/staging) is made by this machine's Swift with the same command the build
# stage runs (`swift build -c release --static-swift-stdlib`). The runtime stage is taken from
# deploy/Dockerfile as it is, with those two references pointed at the local ones, and then:
#   - the container runs read-only, as user 10001, with /data a volume, and answers /health;
#   - its HEALTHCHECK passes (`podman healthcheck run`);
#   - the binary needs only libssl3, zlib1g and the C/C++ runtime (ldd in the image);
#   - dongfeng_build_info carries the COMMIT build argument; the journal is in /data;
#   - SIGTERM (podman stop) ends it cleanly with exit 0.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "image: FAILED: $*"; exit 1; }
need=()
command -v podman >/dev/null || need+=(podman uidmap fuse-overlayfs)
command -v runc >/dev/null || need+=(runc)
command -v debootstrap >/dev/null || need+=(debootstrap)
if [ ${#need[@]} -gt 0 ]; then
  echo "==> installing ${need[*]} (Debian)"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || true
fi
if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null || ! command -v runc >/dev/null; then
  if [ "${CI:-}" = true ]; then fail "podman, runc or debootstrap is not available"; fi
  echo "!!! image: podman, runc or debootstrap is not available — SKIPPED (it would fail in CI)"; exit 0
fi
base=localhost/debian:bookworm-slim
if ! podman image exists "$base"; then
  cache=/var/cache/dongfeng-deploy
  mkdir -p "$cache"
  if [ ! -x "$cache/rootfs/bin/sh" ]; then
    echo "==> debootstrap bookworm (minbase) into $cache/rootfs"
    rm -rf "$cache/rootfs"
    debootstrap --variant=minbase bookworm "$cache/rootfs" http://deb.debian.org/debian >"$cache/debootstrap.log" 2>&1 \
      || { tail -5 "$cache/debootstrap.log"; fail "debootstrap"; }
  fi
  tar -C "$cache/rootfs" -c . | podman import - "$base" >/dev/null || fail "podman import"
fi

echo "==> the build stage's output: swift build -c release --static-swift-stdlib"
swift build -c release --static-swift-stdlib --product dongfeng --scratch-path .build-static >/dev/null
work=$(mktemp -d)
tag=localhost/dongfeng:test-$$
ctr=""
cleanup() {
  [ -n "$ctr" ] && podman rm -f "$ctr" >/dev/null 2>&1
  podman rmi -f "$tag" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/staging/usr/local/bin" "$work/staging/app" "$work/data"
cp .build-static/release/dongfeng "$work/staging/usr/local/bin/"
strip "$work/staging/usr/local/bin/dongfeng"
cp -r Public Config "$work/staging/app/"
# The runtime stage, verbatim but for its base and where the build stage's files come from.
sed -n '/^FROM debian:bookworm-slim AS runtime/,$p' deploy/Dockerfile \
  | sed -e "s|^FROM debian:bookworm-slim AS runtime|FROM $base AS runtime|" -e 's|^COPY --from=build /staging/ /|COPY staging/ /|' \
  >"$work/Dockerfile"
grep -q "^COPY staging/ /" "$work/Dockerfile" || fail "the runtime stage no longer copies /staging from the build stage"
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
echo "==> podman build (runtime stage)"
podman build -q --format docker --isolation chroot --network host -t "$tag" --build-arg COMMIT="$commit" -f "$work/Dockerfile" "$work" >/dev/null \
  || fail "podman build"
podman image inspect "$tag" --format '{{.Size}}' | awk '{printf "image: %.1f MB\n", $1 / 1e6}'

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
token=image-test-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
chown 10001:10001 "$work/data"
# runc, not Debian's default crun: crun refuses this machine's hybrid cgroup layout. Limits at or
# below the machine's own (raising them needs CAP_SYS_RESOURCE, which root lacks here).
ctr=$(podman --runtime runc run -d --network host --ulimit nofile=16384:16384 --ulimit nproc=4096:4096 --read-only -v "$work/data:/data" \
  -e DFP_HOST=127.0.0.1 -e DFP_PORT="$port" -e DFP_ADMIN_TOKEN="$token" -e DFP_FEED=simulator "$tag") || fail "podman run"
for _ in $(seq 1 100); do curl -skf "https://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
curl -skf "https://127.0.0.1:$port/health" | grep -q '"ok"' || { podman logs "$ctr" | tail -20; fail "no /health answer"; }
echo "ok: the container answers /health on :$port (read-only root, /data a volume)"
[ "$(podman --runtime runc exec "$ctr" id -u)" = 10001 ] || fail "not running as user 10001"
echo "ok: runs as user 10001"
podman --runtime runc exec "$ctr" sh -c 'touch /app/x' 2>/dev/null && fail "the root filesystem is writable"
echo "ok: the root filesystem is read-only"
podman --runtime runc healthcheck run "$ctr" >/dev/null || fail "the HEALTHCHECK failed"
echo "ok: the HEALTHCHECK passes"
libs=$(podman --runtime runc exec "$ctr" sh -c 'ldd /usr/local/bin/dongfeng' | awk '{print $1}' | sed 's/\.so.*//' | sort | tr '\n' ' ')
echo "ok: linked libraries: $libs"
echo "$libs" | tr ' ' '\n' | grep -vE '^(linux-vdso|libssl|libcrypto|libz|libc|libm|libstdc\+\+|libgcc_s|/lib64/ld-linux-x86-64)?$' \
  && fail "the binary needs more than libssl3, zlib1g and the C/C++ runtime"
metrics=$(curl -skf -H "Authorization: Bearer $token" "https://127.0.0.1:$port/admin/metrics")
echo "$metrics" | grep -q "dongfeng_build_info{version=\"0.1.0\",commit=\"$commit\"} 1" || fail "build_info does not carry the commit"
echo "ok: dongfeng_build_info commit=$commit"
[ -n "$(ls "$work/data/inputs" 2>/dev/null)" ] && [ -f "$work/data/certs/dev-cert.pem" ] || fail "journal or certificate not in /data"
echo "ok: the journal and the generated certificate are in the /data volume"
podman stop -t 20 "$ctr" >/dev/null
code=$(podman inspect "$ctr" --format '{{.State.ExitCode}}')
[ "$code" = 0 ] || { podman logs "$ctr" | tail -20; fail "exit code $code after SIGTERM"; }
echo "ok: SIGTERM ends it with exit 0"
echo "image: the runtime stage builds and runs with podman"
