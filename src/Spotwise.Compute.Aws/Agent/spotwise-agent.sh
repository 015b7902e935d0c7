#!/usr/bin/env bash
# spotwise-agent: runs one attempt of a Spotwise job on an EC2 instance and reports on it (issue 12). Spotwise's AWS
# backend ships it in the instance's user data (Ec2UserData), behind a bootstrap that exports the four values below.
# Needs bash (4.2 or later) and curl; nothing else (no jq, no aws CLI required).
#
# What it does, in order:
#   1. learns the instance id from the instance metadata (IMDSv2: PUT /latest/api/token with
#      X-aws-ec2-metadata-token-ttl-seconds, then GETs with X-aws-ec2-metadata-token);
#   2. sends `started`, then runs $SPOTWISE_COMMAND with `bash -c`, in a process group of its own, stdin from
#      /dev/null, without SPOTWISE_SECRET in its environment;
#   3. while it runs: sends `heartbeat` every $SPOTWISE_HEARTBEAT_SECONDS (30), and polls spot/instance-action every
#      $SPOTWISE_NOTICE_POLL_SECONDS (5). When EC2 announces an interruption (the page answers 200 instead of 404) it
#      sends `notice` and gives the command's process group $SPOTWISE_CHECKPOINT_SIGNAL (TERM);
#   4. when the command exits: sends `exited` with its exit code, tags the instance spotwise:exit-code=<code> if an aws
#      CLI is there and the instance profile allows ec2:CreateTags (optional: the event is the primary channel), and
#      shuts the instance down with $SPOTWISE_SHUTDOWN_CMD. RunInstances sets InstanceInitiatedShutdownBehavior=terminate,
#      so the shutdown ends the instance and its bill. Without instance metadata (not on EC2) it does not shut down.
#
# Events: POST $SPOTWISE_URL/api/attempts/<token, percent-encoded>/events, Content-Type application/json,
# Authorization: Bearer $SPOTWISE_SECRET (the attempt's own secret, never a team key), body
#   {"event": "started|heartbeat|notice|exited", "at": "<UTC, ISO 8601>", "progressHours": <number>,
#    "exitCode": <0..255>, "instanceId": "i-..."}
# (progressHours when the command reports progress, exitCode on exited, instanceId when the metadata said it).
#
# Progress: the command reports the work it has saved (checkpointed) in this run, in hours, by writing a plain number
# (e.g. `echo 1.5 > "$SPOTWISE_PROGRESS_FILE"`) whenever it checkpoints; every heartbeat and the exit carry the latest.
# Spotwise counts it as the attempt's saved work (InstanceStatus.SavedProgressHours) and resumes a moved job from it.
#
# The checkpoint signal: SIGTERM by default, because it is what the instance's own shutdown sends every process when EC2
# takes the instance back: a command that checkpoints on SIGTERM is right with or without this agent. A command that
# can checkpoint and keep going (the notice comes 2 minutes ahead) may ask for another (SPOTWISE_CHECKPOINT_SIGNAL=USR1).
# An exit after a notice counts as an interruption whatever its code: the command is not done, it was asked to stop.
#
# Environment (all but the first four have defaults, for AWS; tests point them at loopback fakes):
#   SPOTWISE_URL, SPOTWISE_TOKEN, SPOTWISE_SECRET, SPOTWISE_COMMAND   set by the user data's bootstrap
#   SPOTWISE_IMDS_URL            instance metadata            (http://169.254.169.254)
#   SPOTWISE_SHUTDOWN_CMD        run when the command is done (shutdown -h now)
#   SPOTWISE_AWS_CLI             the aws CLI for the exit tag (aws)
#   SPOTWISE_PROGRESS_FILE       where the command writes its progress (progress, beside this script)
#   SPOTWISE_HEARTBEAT_SECONDS   (30)   SPOTWISE_NOTICE_POLL_SECONDS (5)   SPOTWISE_TICK_SECONDS (1: how often it looks)
#   SPOTWISE_CHECKPOINT_SIGNAL   (TERM)
# Exits with the command's exit code.
set -u

for required in SPOTWISE_URL SPOTWISE_TOKEN SPOTWISE_SECRET SPOTWISE_COMMAND; do
  if [ -z "${!required+set}" ]; then
    echo "spotwise-agent: $required is not set" >&2
    exit 2
  fi
done

imds_url=${SPOTWISE_IMDS_URL:-http://169.254.169.254}
imds_url=${imds_url%/}
shutdown_cmd=${SPOTWISE_SHUTDOWN_CMD:-shutdown -h now}
aws_cli=${SPOTWISE_AWS_CLI:-aws}
heartbeat_seconds=${SPOTWISE_HEARTBEAT_SECONDS:-30}
poll_seconds=${SPOTWISE_NOTICE_POLL_SECONDS:-5}
tick_seconds=${SPOTWISE_TICK_SECONDS:-1}
checkpoint_signal=${SPOTWISE_CHECKPOINT_SIGNAL:-TERM}
export SPOTWISE_PROGRESS_FILE=${SPOTWISE_PROGRESS_FILE:-$(cd "$(dirname "$0")" && pwd)/progress}

log() { printf '%s spotwise-agent: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

# RFC 3986 percent-encoding: the token is team/id#attempt, and '/' and '#' mean something in a URL.
urlencode() {
  local LC_ALL=C s=$1 out="" c i
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      [a-zA-Z0-9.~_-]) out+=$c ;;
      *) printf -v c '%%%02X' "'$c"; out+=$c ;;
    esac
  done
  printf '%s' "$out"
}

events_url="${SPOTWISE_URL%/}/api/attempts/$(urlencode "$SPOTWISE_TOKEN")/events"

# --- instance metadata, IMDSv2 (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instance-metadata-v2-how-it-works.html)
imds_token=""
imds_token_at=0
imds_refresh() {
  imds_token=$(curl -sS -f -m 2 -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 21600" "$imds_url/latest/api/token" 2>/dev/null) || {
    imds_token=""
    return 1
  }
  imds_token_at=$SECONDS
}

# Prints the metadata item at meta-data/$1; fails when it is not there (404) or the metadata cannot be reached.
imds_get() {
  local answer code tries
  for tries in 1 2; do
    if [ -z "$imds_token" ] || ((SECONDS - imds_token_at > 3600)); then
      imds_refresh || return 1
    fi
    answer=$(curl -sS -m 2 -w '\n%{http_code}' -H "X-aws-ec2-metadata-token: $imds_token" "$imds_url/latest/meta-data/$1" 2>/dev/null) || return 1
    code=${answer##*$'\n'}
    case $code in
      200) printf '%s' "${answer%$'\n'*}"; return 0 ;;
      401) imds_token="" ;; # the token expired: take a new one and ask again
      *) return 1 ;;
    esac
  done
  return 1
}

# --- events
# The latest progress the command wrote, if it is a plain non-negative number (the command may be writing it now).
progress() {
  local text
  [ -r "$SPOTWISE_PROGRESS_FILE" ] || return 1
  text=$(head -c 64 "$SPOTWISE_PROGRESS_FILE" 2>/dev/null | tr -d ' \t\r\n')
  [[ $text =~ ^[0-9]{1,9}(\.[0-9]{1,9})?$ ]] && printf '%s' "$text"
}

# send_event KIND TRIES [EXIT_CODE]: posts one event; retries a failure to connect or a 5xx/429 with a growing pause.
send_event() {
  local kind=$1 tries=$2 body code n=1 hours
  body="{\"event\":\"$kind\",\"at\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
  if hours=$(progress); then body+=",\"progressHours\":$hours"; fi
  if [ -n "${3:-}" ]; then body+=",\"exitCode\":$3"; fi
  if [ -n "$instance_id" ]; then body+=",\"instanceId\":\"$instance_id\""; fi
  body+="}"
  while :; do
    # The secret goes through a file descriptor, not argv: other users of the machine can read argv in ps.
    code=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' -X POST -H @<(printf 'Authorization: Bearer %s\n' "$SPOTWISE_SECRET") \
      -H 'Content-Type: application/json' --data-binary "$body" "$events_url" 2>/dev/null) || code=000
    case $code in
      2??) return 0 ;;
      429 | 5?? | 000) ;;
      *) log "$kind refused by Spotwise (HTTP $code)"; return 1 ;;
    esac
    if ((n >= tries)); then
      log "$kind not delivered (HTTP $code) after $n tries"
      return 1
    fi
    sleep $((2 * n))
    n=$((n + 1))
  done
}

# --- the exit tag: optional, the exited event is the primary channel
tag_exit_code() {
  local region
  [ -n "$instance_id" ] || return 0
  if ! command -v "${aws_cli%% *}" >/dev/null 2>&1; then
    log "no aws CLI: the exit code is not tagged"
    return 0
  fi
  region=$(imds_get placement/region) || region=""
  # shellcheck disable=SC2086 # SPOTWISE_AWS_CLI may carry options (aws --profile x)
  timeout 60 $aws_cli ec2 create-tags ${region:+--region "$region"} --resources "$instance_id" \
    --tags "Key=spotwise:exit-code,Value=$1" >/dev/null 2>&1 || log "could not tag the exit code (ec2:CreateTags not allowed?)"
}

instance_id=$(imds_get instance-id) || instance_id=""
[[ $instance_id =~ ^i-([0-9a-f]{8}|[0-9a-f]{17})$ ]] || instance_id=""
[ -n "$instance_id" ] || log "no instance metadata at $imds_url: not on EC2, or IMDS is off (no notices, no shutdown)"

send_event started 3

# Job control gives the command a process group of its own, so the checkpoint signal reaches everything it started.
set -m
env -u SPOTWISE_SECRET bash -c "$SPOTWISE_COMMAND" </dev/null &
child=$!
set +m
# Being stopped ourselves (the instance shuts down): pass the checkpoint signal on, then keep reporting.
trap 'kill -s "$checkpoint_signal" -- "-$child" 2>/dev/null' TERM INT

next_beat=$((SECONDS + heartbeat_seconds))
next_poll=$SECONDS
noticed=""
while kill -0 "$child" 2>/dev/null; do
  if [ -z "$noticed" ] && ((SECONDS >= next_poll)); then
    next_poll=$((SECONDS + poll_seconds))
    if action=$(imds_get spot/instance-action); then
      noticed=1
      log "interruption notice: $action; sending SIG$checkpoint_signal to the command"
      kill -s "$checkpoint_signal" -- "-$child" 2>/dev/null
      send_event notice 3
    fi
  fi
  if ((SECONDS >= next_beat)); then
    next_beat=$((SECONDS + heartbeat_seconds))
    send_event heartbeat 1
  fi
  sleep "$tick_seconds"
done
wait "$child"
code=$?
log "the command exited with code $code"

send_event exited 5 "$code"
tag_exit_code "$code"
if [ -n "$instance_id" ]; then
  log "shutting down: $shutdown_cmd"
  bash -c "$shutdown_cmd"
fi
exit "$code"
