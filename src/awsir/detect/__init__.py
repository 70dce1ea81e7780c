"""Sigma detections over a case (issue 7, in progress): :mod:`awsir.detect.backend` compiles
Sigma rules to DuckDB SQL over the case's views."""
