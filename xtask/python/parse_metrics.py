"""Parses Prometheus/OpenMetrics exposition text from the file named by argv[1] with the
official Python client's parser (an implementation independent of ours).

Prints one JSON object: {"families": {name: {"type": ..., "samples": N}}}.
Exits 1 with the parser's message when the text does not parse.
"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:
        families = {
            f.name: {"type": f.type, "samples": len(f.samples)}
            for f in text_string_to_metric_families(text)
        }
    except Exception as e:  # the parser raises ValueError and friends
        print(f"metrics do not parse: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"families": families}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
