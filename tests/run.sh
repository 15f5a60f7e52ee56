#!/bin/sh
# The test command: prepare the machine (tests/setup.sh), then run every
# test — unit tests, the failure matrix, and real installs of every port.
set -eu
cd "$(dirname "$0")/.."
tests/setup.sh
exec cargo test --locked "$@"
