// Preloaded into runner processes that tests start (spawn-runner.ts): their stdin is a pipe
// from the test process, so it closes when that process dies — even by SIGKILL, when no
// afterAll runs — and the runner exits instead of retrying a dead server forever.
process.stdin.on("end", () => process.exit(1));
process.stdin.resume();
