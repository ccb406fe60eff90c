.PHONY: test run build vet fmt

# The whole test suite (installs and starts what it needs: see scripts/test.sh).
test:
	scripts/test.sh

# The demo instance: embedded SQLite, generated dev PKI, demo accounts.
run:
	go run ./cmd/mssanted demo

build:
	go build -o bin/mssanted ./cmd/mssanted

vet:
	gofmt -l . | (! grep .)
	go vet ./...
