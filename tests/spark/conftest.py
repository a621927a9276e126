"""One local SparkSession for the whole test session (starting the JVM costs seconds)."""

from __future__ import annotations

import shutil

import pytest

pytest.importorskip("pyspark")


@pytest.fixture(scope="session")
def spark():
    if shutil.which("java") is None:
        pytest.skip("the Spark engine needs a Java runtime (make test-deps installs one)")
    from personapulse.spark import spark_session

    session = spark_session("local[2]", shuffle_partitions=2, app_name="personapulse-tests")
    yield session
    session.stop()
