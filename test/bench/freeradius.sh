#!/usr/bin/env bash
# Runs FreeRADIUS 3.2 (Debian's freeradius, freeradius-redis) in the
# foreground from a raddb of its own, for make bench to measure beside
# kradius with the same load:
#   freeradius.sh WORKDIR files|redis AUTHPORT ACCTPORT POOL [REDISPORT]
# PAP from the files module (or from Redis with rlm_redis), FB-Account-Type
# in the Accept as kradius sends it, accounting to the detail file.
# Tuned fairly: recv_buff raised, max_requests sized for bursts (rate x 6 s
# and more), thread pool raised, no auth logging.
set -euo pipefail
work=$1 mode=$2 auth=$3 acct=$4 pool=$5 redisport=${6:-6379}
repo=$(cd "$(dirname "$0")/../.." && pwd)
raddb=$work/raddb
mkdir -p "$raddb" "$work/log" "$work/radacct" "$work/run"

cat >"$raddb/dictionary" <<DICT
\$INCLUDE $repo/services/nas/faxback/dictionary.faxback
DICT

if [ "$mode" = files ]; then
  for ((i = 0; i < pool; i++)); do
    printf 'user%d Cleartext-Password := "password"\n\tFB-Account-Type = 4\n\n' "$i"
  done >"$raddb/users"
  authorize='files
    pap'
  redis_module=''
else
  : >"$raddb/users"
  authorize='update control {
      &Cleartext-Password := "%{redis:GET frpw:%{User-Name}}"
    }
    if (!&control:Cleartext-Password || &control:Cleartext-Password == "") {
      reject
    }
    update reply {
      &FB-Account-Type := 4
    }
    pap'
  redis_module="redis {
    server = 127.0.0.1
    port = $redisport
    pool {
      start = 16
      min = 8
      max = 64
      spare = 16
      uses = 0
      retry_delay = 1
      lifetime = 0
      idle_timeout = 60
    }
  }"
fi

cat >"$raddb/radiusd.conf" <<CONF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = /var
sbindir = /usr/sbin
logdir = $work/log
raddbdir = $raddb
radacctdir = $work/radacct
name = freeradius
confdir = $raddb
modconfdir = $raddb/mods-config
run_dir = $work/run
db_dir = $raddb
libdir = /usr/lib/freeradius
pidfile = $work/run/freeradius.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1048576
hostname_lookups = no
log {
  destination = files
  file = $work/log/radius.log
  auth = no
}
security {
  allow_core_dumps = no
  max_attributes = 200
  reject_delay = 0
  status_server = no
}
thread pool {
  start_servers = 32
  max_servers = 64
  min_spare_servers = 8
  max_spare_servers = 32
  max_requests_per_server = 0
  auto_limit_acct = no
}
modules {
  pap {
    normalise = yes
  }
  files {
    filename = $raddb/users
  }
  always reject {
    rcode = reject
  }
  detail {
    filename = $work/radacct/detail
    permissions = 0600
    header = "%t"
  }
  $redis_module
}
client localhost {
  ipaddr = 127.0.0.1
  secret = testing123
  require_message_authenticator = no
}
server default {
  listen {
    type = auth
    ipaddr = 127.0.0.1
    port = $auth
    recv_buff = 33554432
  }
  listen {
    type = acct
    ipaddr = 127.0.0.1
    port = $acct
    recv_buff = 33554432
  }
  authorize {
    $authorize
  }
  authenticate {
    Auth-Type PAP {
      pap
    }
  }
  preacct {
  }
  accounting {
    detail
  }
  post-auth {
  }
}
CONF
exec freeradius -f -d "$raddb" -n radiusd -l stdout
