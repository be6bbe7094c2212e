from strangler_runner.cli import app

app(prog_name="strangler")
