# The two commands of the README are the contract: `make run` and `make test`.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.installed
BUILD_STAMP := dist/.built
SOURCES := $(shell find firmware storage ui-tty scripts test -name '*.ts') tsconfig.json

.PHONY: run test build lint bench fuzz deps peers deb image image-tools image-test clean distclean

run: $(BUILD_STAMP)
	./bin/dicom-edge start

test: build peers lint
	@set -o pipefail; npx mocha 2>&1 | tee test-output.log

build: $(BUILD_STAMP)

# Compiled only when a source changed since the last build: `make run` starts at once.
$(BUILD_STAMP): $(NODE_MODULES_STAMP) $(SOURCES)
	npx tsc -p tsconfig.json
	@touch $@

lint: $(NODE_MODULES_STAMP)
	npx eslint .
	npx prettier --check .

bench: build peers
	node dist/scripts/bench-ingest.js
	node dist/scripts/bench-store.js
	node dist/scripts/bench-forward.js
	node dist/scripts/bench-qr.js
	node dist/scripts/bench-sd-budget.js
	node dist/scripts/bench-sd.js
	node dist/scripts/bench-cache-lifecycle.js
	node dist/scripts/bench-metrics.js
	node dist/scripts/bench-tls.js
	node dist/scripts/bench-stow.js
	node dist/scripts/bench-worklist.js
	node dist/scripts/bench-wan.js

# More fuzzing than `make test` runs: ten times the cases of test/integration/fuzz.test.ts.
fuzz: build peers
	FUZZ_CASES=1000 npx mocha --no-config --exit --timeout 3600000 dist/test/integration/fuzz.test.js

# The Debian packages of the box, build/deb/dicom-edge_VERSION_ARCH.deb for amd64 and arm64
# (scripts/package/build-deb.sh; docs/package.md). node_modules for each architecture is
# built once per package-lock.json under build/node-modules/.
DEB_ARCHES := amd64 arm64
deb: build peers
	@for arch in $(DEB_ARCHES); do scripts/package/build-deb.sh --arch $$arch || exit 1; done

# The SD-card image for a Raspberry Pi 4/5, build/dicom-edge-VERSION-arm64.img: Debian trixie
# arm64 with the arm64 package above (scripts/image/build-image.sh; docs/image.md). Needs
# root. The Debian root it starts from is kept under build/image/ for the next build.
image: deb image-tools
	scripts/image/build-image.sh

image-tools:
	@scripts/install-image-tools.sh

# The image booted in qemu-system-aarch64 and the box in it tested from here: many minutes
# under emulation, so not part of `make test` (test/image/booted-image.image-test.ts).
image-test: image
	npx mocha --no-config --exit --timeout 3600000 --require dist/test/support/peer-logs.js \
	  dist/test/image/booted-image.image-test.js

# npm packages: installed from package-lock.json (sqlite3 compiles against local Node headers).
# A worktree whose node_modules links to another tree's is left alone: npm ci would empty
# the other tree's folder through the link.
$(NODE_MODULES_STAMP): package.json package-lock.json
	@if [ -L node_modules ]; then echo "node_modules is a link: not reinstalled here" >&2; \
	else npm ci --no-audit --no-fund --foreground-scripts=false && touch $@; fi

deps: $(NODE_MODULES_STAMP)

# Interop peers from Debian's packages (DCMTK, Orthanc) and socat, when missing and root.
peers:
	@scripts/install-peers.sh

clean:
	rm -rf dist node_modules/.installed build/deb build/image/work build/dicom-edge-*.img

# Also the arm64 root and the node_modules trees built for the packages (minutes to rebuild).
distclean: clean
	rm -rf build
