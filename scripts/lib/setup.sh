# Shared by scripts/demo and scripts/test: install what a fresh Debian machine lacks.
# Every step checks first, so a second run does nothing and takes a second.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_PACKAGES="confluent-kafka==2.16.1 kafka-python==3.0.12 aiokafka==0.14.0"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_install PACKAGE... — installs the Debian packages that are missing.
apt_install() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]} (apt-get)"
    # A fresh machine may have no package lists yet.
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

require_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        if [ -x /opt/swift/usr/bin/swift ]; then
            export PATH="/opt/swift/usr/bin:$PATH"
        else
            echo "error: Swift 6 is required (https://www.swift.org/install/linux/); swift not found on PATH" >&2
            exit 1
        fi
    fi
}

# The Python virtual environment with the Kafka clients the interop tests drive.
setup_python_clients() {
    local stamp="$VENV/.tickstream-packages"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$PYTHON_PACKAGES" ] && "$VENV/bin/python" -c 'import confluent_kafka, kafka, aiokafka' 2>/dev/null; then
        return 0
    fi
    say "creating the Python virtual environment in .venv ($PYTHON_PACKAGES)"
    python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv; python3 -m venv "$VENV"; }
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    # shellcheck disable=SC2086
    "$VENV/bin/pip" install -q $PYTHON_PACKAGES
    echo "$PYTHON_PACKAGES" > "$stamp"
}
