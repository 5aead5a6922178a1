import base64
import contextlib
import io
import json
import math
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import zlib
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the package from the source tree
sys.path.insert(0, HERE)

import heron  # noqa: E402
from heron import _env, _png, _values, _wal  # noqa: E402
from heron.__main__ import main as cli_main  # noqa: E402
from fakeserver import FakeHeron  # noqa: E402

try:
    import numpy as np  # noqa: F401
except ImportError:  # pragma: no cover
    np = None

FAST = dict(capture_console=False, capture_system=False, capture_exit=False, capture_environment=False,
            flush_interval=0.05, backoff_base=0.02, backoff_max=0.2, init_timeout=2.0, request_timeout=2.0)
ENV_KEYS = ("HERON_LEASE", "HERON_RUN_ID", "HERON_RESUME", "HERON_HOST", "HERON_API_KEY", "HERON_MODE", "HERON_PROJECT")


def child_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
    env["PYTHONPATH"] = os.path.dirname(HERE) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="heron-test-")
        self.env = mock.patch.dict(os.environ, {})
        self.env.start()
        for k in ENV_KEYS:
            os.environ.pop(k, None)
        self.server = FakeHeron().start()

    def tearDown(self):
        r = heron.current()
        if r is not None:
            r.finish(timeout=0.1, quiet=True)
        self.server.stop()
        self.env.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def init(self, **kw):
        args = dict(FAST, project="proj", host=self.server.url, api_key="hk_test", dir=self.tmp)
        args.update(kw)
        return heron.init(**args)

    def values(self, run_id, key="x"):
        return sorted((p["step"], p["value"]) for p in self.server.points[run_id] if p["key"] == key)


class ValuesTest(unittest.TestCase):
    def test_non_finite_values_travel_as_strings(self):
        self.assertEqual(_values.encode_float(math.nan), "NaN")
        self.assertEqual(_values.encode_float(math.inf), "Infinity")
        self.assertEqual(_values.encode_float(-math.inf), "-Infinity")
        self.assertEqual(_values.encode_float(1.5), 1.5)
        self.assertTrue(math.isnan(_values.decode_wire(None)))
        self.assertEqual(_values.decode_wire("-Infinity"), -math.inf)
        self.assertEqual(_values.json_safe({"a": math.nan, "b": (1, 2), "c": {"d": math.inf}}), {"a": "NaN", "b": [1, 2], "c": {"d": "Infinity"}})

    def test_flatten_and_numbers(self):
        self.assertEqual(dict(_values.flatten({"a": {"b": 1, "c": {"d": 2}}, "e": 3})), {"a/b": 1, "a/c/d": 2, "e": 3})
        self.assertEqual(_values.to_number(True), 1.0)
        self.assertEqual(_values.to_number(3), 3.0)
        self.assertIsNone(_values.to_number("3"))
        self.assertIsNone(_values.to_number([1]))

    @unittest.skipIf(np is None, "numpy not installed")
    def test_numpy_scalars(self):
        self.assertEqual(_values.to_number(np.float32(0.5)), 0.5)
        self.assertEqual(_values.to_number(np.array(2.0)), 2.0)
        self.assertIsNone(_values.to_number(np.zeros(3)))
        self.assertEqual(_values.json_safe({"n": np.int64(3)}), {"n": 3})


def decode_png(data):
    """minimal PNG reader for 8-bit, filter-0 images (what encode_png writes)"""
    assert data.startswith(_png.PNG_SIGNATURE)
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, color = ihdr[:4]
    ch = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = zlib.decompress(idat)
    rows = [raw[y * (w * ch + 1) + 1:(y + 1) * (w * ch + 1)] for y in range(h)]
    return w, h, ch, b"".join(rows)


class PngTest(unittest.TestCase):
    def test_encode_raw(self):
        png = _png.encode_png(bytes([0, 64, 128, 255, 10, 20]), 3, 2, 1)
        self.assertEqual(_png.png_size(png), (3, 2))
        self.assertEqual(decode_png(png), (3, 2, 1, bytes([0, 64, 128, 255, 10, 20])))

    def test_rejects_non_png(self):
        with self.assertRaises(ValueError):
            _png.to_png(b"not a png")
        with self.assertRaises(TypeError):
            _png.to_png(12)

    @unittest.skipIf(np is None, "numpy not installed")
    def test_numpy_arrays(self):
        rgb = np.zeros((4, 5, 3), dtype=np.uint8)
        rgb[1, 2] = (255, 128, 1)
        png, w, h = _png.to_png(rgb)
        self.assertEqual((w, h), (5, 4))
        self.assertEqual(decode_png(png)[3], rgb.tobytes())
        png, w, h = _png.to_png(np.ones((3, 7), dtype=np.float32))  # floats in [0,1] -> 255
        self.assertEqual(decode_png(png), (7, 3, 1, bytes([255]) * 21))
        png, w, h = _png.to_png(np.zeros((3, 6, 8)))  # CHW -> HWC
        self.assertEqual((w, h), (8, 6))


class EnvironmentTest(unittest.TestCase):
    def test_redacts_credentials(self):
        self.assertEqual(_env.redact("https://user:ghp_secret@github.com/a/b.git"), "https://[redacted]@github.com/a/b.git")
        self.assertEqual(_env.redact("https://tok@github.com/a/b.git"), "https://[redacted]@github.com/a/b.git")
        self.assertEqual(_env.redact("git@github.com:a/b.git"), "git@github.com:a/b.git")
        self.assertEqual(_env.redact("--api-key=abc"), "--api-key=[redacted]")
        self.assertEqual(_env.redact_argv(["train.py", "--token", "s3cr3t", "--lr", "0.1", "hk_" + "a" * 20]),
                         ["train.py", "--token", "[redacted]", "--lr", "0.1", "hk_[redacted]"])

    def test_capture(self):
        env = _env.capture_environment()
        self.assertEqual(env["python"].split(".")[0], "3")
        self.assertIn("packages", env)
        self.assertIsInstance(env["packages"], dict)
        json.dumps(env)

    def test_git_remote_redacted(self):
        d = tempfile.mkdtemp()
        try:
            if shutil.which("git") is None:
                self.skipTest("no git")
            run = lambda *a: subprocess.run(["git", *a], cwd=d, check=True, capture_output=True)  # noqa: E731
            run("init", "-q")
            run("-c", "user.email=a@b", "-c", "user.name=a", "commit", "-q", "--allow-empty", "-m", "x")
            run("remote", "add", "origin", "https://bob:supersecret@example.com/r.git")
            g = _env.capture_git(d)
            self.assertEqual(len(g["commit"]), 40)
            self.assertEqual(g["remote"], "https://[redacted]@example.com/r.git")
            self.assertNotIn("supersecret", json.dumps(g))
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_nvidia_smi_parse(self):
        self.assertEqual(_env.parse_nvidia_smi("NVIDIA H200, 143771, 550.54\n"), [{"name": "NVIDIA H200", "driver": "550.54", "memoryBytes": 143771 * 1024 * 1024}])


class OnlineTest(Base):
    def test_logs_everything_once(self):
        run = self.init(config={"lr": 0.1}, tags=["a"], name="n1")
        for i in range(2000):
            heron.log({"x": i, "nested": {"y": i * 2}})
        heron.log({"bad": math.nan, "inf": math.inf}, step=3)
        run.log_text("t", ["a", ("b", "cap")], step=1)
        run.log_image("img", _png.encode_png(b"\x00\xff\x00\xff", 2, 2, 1), caption="c")
        run.config.update({"bs": 32})
        run.summary["best"] = 1.0
        self.assertTrue(heron.finish(timeout=5))
        self.assertIsNone(heron.run)
        srv = self.server
        self.assertEqual(self.values(run.id), [(i, float(i)) for i in range(2000)])
        self.assertEqual(len(self.values(run.id, "nested/y")), 2000)
        self.assertEqual(self.values(run.id, "bad"), [(3, "NaN")])
        self.assertEqual(self.values(run.id, "inf"), [(3, "Infinity")])
        self.assertEqual(srv.runs[run.id]["status"], "finished")
        self.assertEqual(srv.runs[run.id]["config"], {"lr": 0.1, "bs": 32})
        self.assertEqual(srv.runs[run.id]["summary"], {"best": 1.0})
        self.assertEqual(srv.runs[run.id]["tags"], ["a"])
        texts = [t for b in srv.batches[run.id] for t in b.get("texts", [])]
        self.assertEqual(texts[0]["rows"], [{"text": "a"}, {"text": "b", "caption": "cap"}])
        imgs = [m for b in srv.batches[run.id] for m in b.get("images", [])]
        self.assertEqual((imgs[0]["width"], imgs[0]["height"], imgs[0]["caption"]), (2, 2, "c"))
        self.assertEqual(_png.png_size(base64.b64decode(imgs[0]["png"])), (2, 2))
        seqs = [b["seq"] for b in srv.batches[run.id]]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertTrue(srv.batches[run.id][-1]["end"] == {"state": "finished"})
        # the WAL is left on disk, in the layout `npx heron sync` reads too
        self.assertTrue(os.path.isfile(os.path.join(run.dir, "run.json")))
        self.assertEqual(len(_wal.list_writers(run.dir)), 1)

    def test_retries_and_lost_answers_store_nothing_twice(self):
        run = self.init()
        self.server.fail_next = 3
        self.server.drop_answer_next = 2
        for i in range(500):
            heron.log({"x": i})
            if i % 100 == 0:
                run.flush()
        self.assertTrue(heron.finish(timeout=10))
        self.assertEqual(self.values(run.id), [(i, float(i)) for i in range(500)])

    def test_server_down_and_back_on_the_same_port(self):
        run = self.init()
        for i in range(100):
            heron.log({"x": i})
        run.flush()
        self.assertTrue(run._sender.wait_acked(run._seq, 3))
        port = int(self.server.url.rsplit(":", 1)[1])
        self.server.stop()
        for i in range(100, 300):
            heron.log({"x": i})
            if i % 50 == 0:
                run.flush()
        time.sleep(0.3)
        self.server._port = port
        self.server.start()
        self.assertTrue(heron.finish(timeout=10))
        self.assertEqual(self.values(run.id), [(i, float(i)) for i in range(300)])
        self.assertEqual(self.server.runs[run.id]["status"], "finished")

    def test_finish_with_the_server_down_returns_in_time_then_sync(self):
        run = self.init()
        for i in range(50):
            heron.log({"x": i})
        run.flush()
        self.assertTrue(run._sender.wait_acked(run._seq, 3))
        self.server.down = True
        for i in range(50, 120):
            heron.log({"x": i})
        err = io.StringIO()
        t0 = time.monotonic()
        with contextlib.redirect_stderr(err):
            ok = heron.finish(timeout=1)
        took = time.monotonic() - t0
        self.assertFalse(ok)
        self.assertLess(took, 2.0)
        lines = [ln for ln in err.getvalue().splitlines() if ln.startswith("[heron]")]
        self.assertEqual(len(lines), 1, err.getvalue())
        self.assertIn(f"python -m heron sync {run.dir}", lines[0])
        # back up: sync uploads the rest, exactly once; a second sync sends nothing
        self.server.down = False
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(cli_main(["sync", run.dir, "--api-key", "hk_test", "--json"]), 0)
        res = json.loads(out.getvalue().strip().splitlines()[-1])
        self.assertEqual(res[0]["runId"], run.id)
        self.assertGreater(res[0]["writers"][0]["sent"], 0)
        self.assertEqual(self.values(run.id), [(i, float(i)) for i in range(120)])
        self.assertEqual(self.server.runs[run.id]["status"], "finished")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(cli_main(["sync", self.tmp, "--api-key", "hk_test", "--json"]), 0)
        self.assertEqual(json.loads(out.getvalue().strip().splitlines()[-1])[0]["writers"][0]["sent"], 0)
        self.assertEqual(len(self.values(run.id)), 120)

    def test_init_with_the_server_unreachable_carries_on(self):
        self.server.down = True
        t0 = time.monotonic()
        run = self.init(init_timeout=0.3)
        self.assertLess(time.monotonic() - t0, 1.5)
        heron.log({"x": 1})
        self.server.down = False
        self.assertTrue(heron.finish(timeout=5))
        self.assertEqual(self.values(run.id), [(0, 1.0)])

    def test_bad_key_raises_at_init(self):
        with self.assertRaises(heron.HeronError) as cm:
            self.init(api_key="wrong")
        self.assertEqual(cm.exception.status, 401)

    def test_a_refused_batch_does_not_stop_the_sequence(self):
        self.server.reject_seq = 2
        run = self.init()
        heron.log({"x": 0})
        run.flush()
        heron.log({"x": 1})
        run.flush()
        heron.log({"x": 2})
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertTrue(heron.finish(timeout=5))
        self.assertEqual(self.values(run.id), [(0, 0.0), (2, 2.0)])
        self.assertEqual(self.server.runs[run.id]["status"], "finished")

    def test_steps(self):
        run = self.init()
        heron.log({"x": 1})  # 0
        heron.log({"x": 2}, step=10)
        heron.log({"x": 3})  # 11
        heron.log({"y": 1}, commit=False)  # 12
        heron.log({"x": 4})  # 12
        self.assertTrue(heron.finish(timeout=5))
        self.assertEqual(self.values(run.id), [(0, 1.0), (10, 2.0), (11, 3.0), (12, 4.0)])
        self.assertEqual(self.values(run.id, "y"), [(12, 1.0)])
        with self.assertRaises(RuntimeError):
            run.log({"x": 1})

    def test_console_capture(self):
        run = self.init(capture_console=True)
        print("hello from the script")
        sys.stdout.write("partial")
        self.assertTrue(heron.finish(timeout=5))
        logs = [ln for b in self.server.batches[run.id] for ln in b.get("logs", [])]
        self.assertIn({"stream": "stdout", "line": "hello from the script"}, [{"stream": x["stream"], "line": x["line"]} for x in logs])
        self.assertIn("partial", [x["line"] for x in logs])
        self.assertNotIsInstance(sys.stdout, type(None))
        self.assertFalse(hasattr(sys.stdout, "flush_partial"))

    def test_environment_is_sent(self):
        run = self.init(capture_environment=True, environment={"extra": 1})
        self.assertTrue(heron.finish(timeout=5))
        env = self.server.runs[run.id]["environment"]
        self.assertEqual(env["extra"], 1)
        self.assertIn("python", env)
        self.assertIn("packages", env)

    def test_inside_a_job_attaches_to_the_jobs_run(self):
        self.server.create({"project": "jobproj", "id": "job-run-1", "writer": "w0"})
        self.server.points["job-run-1"].append({"key": "x", "step": 41, "value": 1, "ts": 0})
        os.environ["HERON_LEASE"] = json.dumps({"jobId": "j1", "runId": "job-run-1", "projectName": "jobproj", "attempt": 2, "spec": {}})
        os.environ["HERON_RUN_ID"] = "job-run-1"
        os.environ["HERON_RESUME"] = "1"
        os.environ["HERON_HOST"] = self.server.url
        os.environ["HERON_API_KEY"] = "hk_test"
        args = dict(FAST)
        with contextlib.redirect_stderr(io.StringIO()):
            run = heron.init(project="other", dir=self.tmp, **args)
        self.assertEqual((run.id, run.project), ("job-run-1", "jobproj"))
        self.assertEqual(run.step, 42)  # continues after the server's last step
        self.assertEqual(run._finish_timeout, 600.0)
        heron.log({"x": 2})
        self.assertTrue(heron.finish(timeout=5))
        self.assertEqual(self.values("job-run-1"), [(41, 1), (42, 2.0)])


class OfflineTest(Base):
    def test_offline_then_sync(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            run = self.init(mode="offline", host="http://127.0.0.1:9", config={"a": 1})
            for i in range(1000):
                heron.log({"x": i})
            run.summary["s"] = 2
            self.assertTrue(heron.finish())
        self.assertIn(f"python -m heron sync {run.dir}", err.getvalue())
        self.assertEqual(self.server.requests, [])
        r = heron.sync(run.dir, host=self.server.url, api_key="hk_test")
        self.assertEqual(r[0]["runId"], run.id)
        self.assertEqual(self.values(run.id), [(i, float(i)) for i in range(1000)])
        self.assertEqual(self.server.runs[run.id]["status"], "finished")
        self.assertEqual(self.server.runs[run.id]["config"], {"a": 1})
        self.assertEqual(self.server.runs[run.id]["summary"], {"s": 2})
        heron.sync(run.dir, host=self.server.url, api_key="hk_test")
        self.assertEqual(len(self.values(run.id)), 1000)

    def test_killed_process_is_synced_as_crashed(self):
        script = ("import heron, os, signal\n"
                  f"run = heron.init(project='proj', mode='offline', dir={self.tmp!r}, capture_console=False)\n"
                  "for i in range(300): heron.log({'x': i})\n"
                  "run.flush()\nprint(run.dir, flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n")
        p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=child_env(), timeout=20)
        self.assertEqual(p.returncode, -signal.SIGKILL, p.stderr)
        run_dir = p.stdout.strip()
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(cli_main(["sync", run_dir, "--host", self.server.url, "--api-key", "hk_test"]), 0)
        run_id = os.path.basename(run_dir)
        self.assertEqual(self.values(run_id), [(i, float(i)) for i in range(300)])
        self.assertEqual(self.server.runs[run_id]["status"], "crashed")

    def test_disabled_does_nothing(self):
        run = heron.init(project="p", mode="disabled", dir=self.tmp)
        heron.log({"x": 1})
        run.log_text("t", "x")
        self.assertTrue(heron.finish())
        self.assertEqual(os.listdir(self.tmp), [])

    def test_wal_skips_a_torn_last_line(self):
        d = os.path.join(self.tmp, "r")
        w = _wal.WriteAheadLog(d, "0-a")
        w.append({"seq": 1, "points": [["x", 0, 1, 0]]})
        w.close()
        with open(os.path.join(d, "wal", "0-a.000000000001.jsonl"), "ab") as f:
            f.write(b'{"seq":2,"poi')
        w2 = _wal.WriteAheadLog(d, "0-a")
        self.assertEqual(w2.last_seq(), 1)
        w2.append({"seq": 2, "points": []})
        self.assertEqual([b["seq"] for b in w2.read()], [1, 2])


class ProcessTest(Base):
    def test_e2e_script(self):
        p = subprocess.run([sys.executable, os.path.join(HERE, "e2e_log.py"), self.server.url, "hk_test", "proj", "3000", self.tmp],
                           capture_output=True, text=True, env=child_env(), timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        res = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertTrue(res["ok"])
        self.assertEqual(self.values(res["runId"], "e2e/value"), [(i, i * 0.5) for i in range(3000)])
        self.assertEqual(self.values(res["runId"], "e2e/nan"), [(0, "NaN")])
        self.assertEqual(self.server.runs[res["runId"]]["status"], "finished")

    def test_uncaught_exception_marks_crashed_and_exit_finishes(self):
        script = ("import heron\n"
                  f"heron.init(project='proj', host={self.server.url!r}, api_key='hk_test', dir={self.tmp!r}, capture_console=False, capture_system=False)\n"
                  "heron.log({'x': 1})\n"
                  "raise SystemError('boom')\n")
        p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=child_env(), timeout=20)
        self.assertNotEqual(p.returncode, 0)
        (run_id,) = self.server.runs
        self.assertEqual(self.server.runs[run_id]["status"], "crashed")
        end = self.server.batches[run_id][-1]["end"]
        self.assertIn("boom", end["error"])
        script = script.replace("raise SystemError('boom')\n", "")
        p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=child_env(), timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(r["status"] for r in self.server.runs.values()), ["crashed", "finished"])

    def test_sigterm_aborts(self):
        script = ("import heron, time, sys\n"
                  f"heron.init(project='proj', host={self.server.url!r}, api_key='hk_test', dir={self.tmp!r}, capture_console=False, capture_system=False)\n"
                  "heron.log({'x': 1})\nprint('ready', flush=True)\ntime.sleep(30)\n")
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
        self.assertEqual(p.stdout.readline().strip(), "ready")
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)
        self.assertLess(time.monotonic() - t0, 5)
        p.stdout.close()
        p.stderr.close()
        (run_id,) = self.server.runs
        self.assertEqual(self.server.runs[run_id]["status"], "aborted")


class IntegrationsTest(unittest.TestCase):
    def test_import_safe_without_frameworks(self):
        import importlib
        import importlib.util

        t = importlib.import_module("heron.integrations.transformers")
        lt = importlib.import_module("heron.integrations.lightning")
        for mod, name, fw in ((t, "HeronCallback", "transformers"), (lt, "HeronLogger", "lightning")):
            try:
                importlib.import_module(fw)
                have = True
            except ImportError:
                have = fw == "lightning" and importlib.util.find_spec("pytorch_lightning") is not None
            if have:
                self.assertTrue(isinstance(getattr(mod, name), type))
            else:
                with self.assertRaises(ImportError):
                    getattr(mod, name)

    def test_importing_integrations_imports_no_framework(self):
        code = ("import sys, heron, heron.integrations.transformers, heron.integrations.lightning\n"
                "print(sorted(m for m in ('transformers', 'lightning', 'pytorch_lightning', 'torch', 'numpy') if m in sys.modules))")
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(), timeout=20)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.strip(), "[]")


if __name__ == "__main__":
    unittest.main()
