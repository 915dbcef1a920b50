# Sourced by .ci/run: installs Ceph's S3 gateway (Debian: ceph-mon, ceph-osd, radosgw) if missing and starts
# a throwaway single-node cluster on 127.0.0.1 — one monitor, one in-memory OSD, radosgw (beast) — without
# systemd or cephx. It enforces SSE-C, which the S3 tests need. Exports EXPORTSPS_TEST_S3_URL,
# EXPORTSPS_TEST_S3_ACCESS_KEY and EXPORTSPS_TEST_S3_SECRET_KEY. Each daemon writes its pid to <data dir>/run/*.pid:
# kill those to stop an instance.
if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ceph-mon ceph-osd radosgw >/dev/null
fi

s3_free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

# Every step names itself when it fails (under set -e a bare failure would stop CI without a word) and
# stops the daemons this attempt started, so a failed start leaves nothing running.
s3_fail() {
  echo "Ceph radosgw did not start: $1. Logs in $s3_dir/log:" >&2
  tail -n 20 "$s3_dir"/log/*.log >&2 2>/dev/null || true
  for pid_file in "$s3_dir"/run/*.pid; do
    [ -e "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null || true
  done
}

s3_dir=$(mktemp -d /tmp/exportsps-ceph.XXXXXX)
s3_mon_port=$(s3_free_port 16789)
s3_port=$(s3_free_port "${EXPORTSPS_S3_PORT:-7480}")
s3_conf="$s3_dir/ceph.conf"
mkdir -p "$s3_dir/run" "$s3_dir/log" "$s3_dir/mon/ceph-a" "$s3_dir/osd/ceph-0"
s3_fsid=$(cat /proc/sys/kernel/random/uuid)
cat >"$s3_conf" <<EOF
[global]
log to stderr = false
err to stderr = false
fsid = $s3_fsid
mon host = v1:127.0.0.1:$s3_mon_port
public addr = 127.0.0.1
ms bind msgr2 = false
auth cluster required = none
auth service required = none
auth client required = none
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon max pg per osd = 1000
mon allow pool delete = true
mon warn on pool no redundancy = false
osd objectstore = memstore
# The OSD's own start-up commands to the monitor can race its first monmap (and fail with "wrong fsid");
# its crush placement is done below instead.
osd class update on start = false
osd crush update on start = false
memstore device bytes = 3221225472
run dir = $s3_dir/run
admin socket = $s3_dir/run/\$name.asok
pid file = $s3_dir/run/\$name.pid
log file = $s3_dir/log/\$name.log
mon data = $s3_dir/mon/\$cluster-\$id
osd data = $s3_dir/osd/\$cluster-\$id
[client.rgw.exportsps]
rgw frontends = beast endpoint=127.0.0.1:$s3_port
rgw crypt require ssl = false
rgw thread pool size = 64
EOF
monmaptool --create --fsid "$s3_fsid" --addv a "[v1:127.0.0.1:$s3_mon_port]" "$s3_dir/monmap" >/dev/null \
  || { s3_fail "monmaptool could not create the monitor map"; return 1 2>/dev/null || exit 1; }
ceph-mon -c "$s3_conf" --mkfs -i a --monmap "$s3_dir/monmap" >/dev/null 2>&1 \
  || { s3_fail "ceph-mon --mkfs failed"; return 1 2>/dev/null || exit 1; }
ceph-mon -c "$s3_conf" -i a || { s3_fail "ceph-mon did not start on 127.0.0.1:$s3_mon_port"; return 1 2>/dev/null || exit 1; }
s3_osd_uuid=$(cat /proc/sys/kernel/random/uuid)
s3_osd=$(timeout 60 ceph -c "$s3_conf" osd create "$s3_osd_uuid") \
  || { s3_fail "the monitor did not answer 'ceph osd create' within 60 s"; return 1 2>/dev/null || exit 1; }
timeout 60 ceph -c "$s3_conf" osd crush add "osd.$s3_osd" 1.0 root=default >/dev/null 2>&1 \
  || { s3_fail "'ceph osd crush add osd.$s3_osd' failed"; return 1 2>/dev/null || exit 1; }
ceph-osd -c "$s3_conf" -i "$s3_osd" --mkfs --osd-uuid "$s3_osd_uuid" >/dev/null 2>&1 \
  || { s3_fail "ceph-osd --mkfs failed"; return 1 2>/dev/null || exit 1; }
ceph-osd -c "$s3_conf" -i "$s3_osd" 2>/dev/null || { s3_fail "ceph-osd did not start"; return 1 2>/dev/null || exit 1; }
radosgw -c "$s3_conf" -n client.rgw.exportsps 2>/dev/null \
  || { s3_fail "radosgw did not start on 127.0.0.1:$s3_port"; return 1 2>/dev/null || exit 1; }

s3_access=EXPORTSPS$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
s3_secret=$(head -c 30 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40)
s3_ready=""
for _ in $(seq 1 60); do
  if timeout 10 radosgw-admin -c "$s3_conf" user create --uid=exportsps --display-name=ExportsPS \
       --access-key="$s3_access" --secret-key="$s3_secret" >/dev/null 2>&1; then
    s3_ready=user
    break
  fi
  sleep 1
done
# A bucket can be created once monitor, OSD and gateway all serve (the gateway creates its pools first).
for _ in $(seq 1 120); do
  [ "$s3_ready" = user ] || break
  if curl -sf -o /dev/null -m 10 -X PUT --aws-sigv4 "aws:amz:us-east-1:s3" --user "$s3_access:$s3_secret" \
       -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
       "http://127.0.0.1:$s3_port/exportsps-ready"; then
    s3_ready=yes
    break
  fi
  sleep 1
done
case "$s3_ready" in
  yes) ;;
  user) s3_fail "radosgw on 127.0.0.1:$s3_port did not accept a bucket within 120 s"; return 1 2>/dev/null || exit 1 ;;
  *) s3_fail "'radosgw-admin user create' did not succeed within 60 s"; return 1 2>/dev/null || exit 1 ;;
esac
export EXPORTSPS_TEST_S3_URL="http://127.0.0.1:$s3_port"
export EXPORTSPS_TEST_S3_ACCESS_KEY="$s3_access"
export EXPORTSPS_TEST_S3_SECRET_KEY="$s3_secret"
echo "Ceph radosgw $(ceph --version | awk '{print $3}') on 127.0.0.1:$s3_port (data in $s3_dir)"
