# The two set-up commands of the README: `make demo` and `make test`.
.PHONY: demo test lint bench

demo:
	@scripts/ensure-mariadb.sh
	cargo run --release -- demo

test:
	@scripts/ensure-mariadb.sh
	cargo test --all-targets
	@scripts/check-no-servers.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

bench:
	@scripts/ensure-mariadb.sh
	cargo run --release -- bench copy --runs 3
	cargo run --release -- bench delta --runs 3
