# Sourced by scripts/demo and scripts/test: bring this checkout to a runnable state.
# Idempotent and quiet when everything is already in place.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export UV_PYTHON_DOWNLOADS=never
PYTHON="${PYTHON:-python3}"

say() { printf '[setup] %s\n' "$*" >&2; }

# Debian packages that are missing, from the list given.
missing_debs() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
    done
}

install_debs() {
    local missing
    missing="$(missing_debs "$@")"
    [ -z "$missing" ] && return 0
    if ! command -v apt-get >/dev/null; then
        say "please install these system packages: $missing"; return 1
    fi
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    say "installing system packages: $(echo $missing)"
    $sudo apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

ensure_uv() {
    if command -v uv >/dev/null; then UV=(uv); return; fi
    if ! "$PYTHON" -m uv --version >/dev/null 2>&1; then
        say "installing uv"
        "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
    fi
    UV=("$PYTHON" -m uv)
}

ensure_venv() {
    ensure_uv
    # libkrb5-dev: gssapi is built from source against MIT Kerberos.
    install_debs libkrb5-dev gcc
    (cd "$ROOT" && "${UV[@]}" sync --quiet --all-packages --frozen --python "$PYTHON")
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_rabbitmq() {
    port_open 5672 && return 0
    install_debs rabbitmq-server
    say "starting RabbitMQ"
    rabbitmq-server -detached >/dev/null 2>&1 || true
    local i
    for i in $(seq 1 120); do
        port_open 5672 && return 0
        sleep 1
    done
    say "RabbitMQ did not come up on 127.0.0.1:5672"; return 1
}

# MIT Kerberos KDC tools: the demo and the tests start a throw-away KDC (realm FNAL.GOV).
ensure_kerberos_tools() {
    install_debs krb5-kdc krb5-admin-server krb5-user
}

ensure_test_services() {
    ensure_kerberos_tools
    install_debs openssh-server
    ensure_rabbitmq
}
