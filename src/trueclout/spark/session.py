"""The SparkSession of the Spark backend, built from the ``spark_*`` settings.

:func:`spark_session` returns a session for ``spark_master`` (``local[2]`` by default;
``yarn``, ``k8s://...`` or ``spark://host:7077`` on a cluster), with the app name, driver
memory, shuffle partitions and any extra ``key=value`` Spark options of config. Under
``spark-submit`` the submitted session already exists and is reused as it is (the
command line's ``--master`` and ``--conf`` win). :func:`require_spark` checks that
PySpark is installed and that a Java runtime can be found, and says what to install when
not: a :class:`~trueclout.errors.UsageError` instead of a JVM traceback.

GraphFrames is used nowhere by default; :func:`graphframes_available` says whether its
jar is on the session's classpath (it cannot be downloaded on our machines, so every
operation has a plain DataFrame path).

Examples
--------
>>> spark_conf()["spark.sql.shuffle.partitions"]
'4'
>>> require_spark()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from .. import config
from ..errors import UsageError


def spark_conf(**overrides: Any) -> dict[str, str]:
    """The Spark options the backend sets, from config (``overrides`` by setting name).

    Examples
    --------
    >>> c = spark_conf(spark_shuffle_partitions=8, spark_conf="spark.ui.enabled=false")
    >>> c["spark.sql.shuffle.partitions"], c["spark.ui.enabled"]
    ('8', 'false')
    """
    def val(name: str) -> Any:
        return config.get(name, overrides)

    conf = {
        "spark.app.name": str(val("spark_app_name")),
        "spark.driver.memory": str(val("spark_driver_memory")),
        "spark.sql.shuffle.partitions": str(int(val("spark_shuffle_partitions"))),
        "spark.default.parallelism": str(int(val("spark_shuffle_partitions"))),
        # small local jobs: no UI, no adaptive coalescing surprises in timings
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
    }
    extra = str(val("spark_conf") or "").strip()
    for item in filter(None, (x.strip() for x in extra.split(","))):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"spark_conf entries must be key=value, got {item!r}")
        conf[key.strip()] = value.strip()
    return conf


def _java_home_ok() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None


def require_spark() -> None:
    """Raise :class:`~trueclout.errors.UsageError` unless PySpark and Java are there.

    Examples
    --------
    >>> require_spark() is None   # PySpark and Java are installed here
    True
    """
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise UsageError("the Spark backend needs PySpark: pip install 'trueclout[spark]' "
                         "(or pip install 'pyspark>=4.0,<5')") from exc
    if not _java_home_ok():
        raise UsageError("the Spark backend needs a Java runtime (17 or later): install "
                         "one and put java on PATH or set JAVA_HOME")


def spark_session(master: str | None = None, **overrides: Any):
    """A SparkSession for the backend: the active one, else a new one from config.

    Parameters
    ----------
    master : str, optional
        Spark master URL (default: config ``spark_master``, ``local[2]``).
    **overrides
        Setting values by name (``spark_driver_memory="4g"``, ...).

    Returns
    -------
    pyspark.sql.SparkSession

    Examples
    --------
    >>> spark_session  # doctest: +ELLIPSIS
    <function spark_session at ...>
    >>> spark = spark_session()  # doctest: +SKIP
    >>> spark.range(3).count()  # doctest: +SKIP
    3
    """
    require_spark()
    from pyspark.sql import SparkSession
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = SparkSession.builder.master(str(config.value("spark_master", master)))
    for key, value in spark_conf(**overrides).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: say why in one line
        raise UsageError(f"could not start Spark ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}); check Java "
                         "and the spark_* settings") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def graphframes_available(spark) -> bool:
    """Whether the GraphFrames jar is on the session's classpath (never required).

    Examples
    --------
    >>> graphframes_available(None)
    False
    """
    if spark is None:
        return False
    try:
        jvm = spark.sparkContext._jvm
        jvm.java.lang.Class.forName("org.graphframes.GraphFrame")
        return True
    except Exception:
        return False
