"""The load of `python -m bench --served`: each simulated client requests one URL back to
back (a closed loop, no think time), signed in with a session cookie or an API token.

Driven by the bench through environment variables, one run per measure and client count:
BENCH_PATH (the URL), BENCH_SESSION (a session id) or BENCH_TOKEN (an API key).
"""

import os

from locust import FastHttpUser, constant, task


class BenchClient(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.path = os.environ["BENCH_PATH"]
        self.headers = {"Accept": "application/json, text/html"}
        if os.environ.get("BENCH_TOKEN"):
            self.headers["Authorization"] = f"Token {os.environ['BENCH_TOKEN']}"
        if os.environ.get("BENCH_SESSION"):
            self.headers["Cookie"] = f"sessionid={os.environ['BENCH_SESSION']}"

    @task
    def get(self):
        with self.client.get(self.path, headers=self.headers, name=self.path, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
