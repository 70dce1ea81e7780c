"""The case's files as the Spark driver sees them: through Hadoop's FileSystem API (py4j).

A Spark case may live on the driver's disk, on HDFS or in S3 (``s3a://`` with hadoop-aws, or
``s3://`` on EMR); Hadoop's FileSystem is the one API that reaches all of them with the
cluster's own credentials and configuration, so the commit (journal, moves, registry entry)
is written once, here, for every store
(https://hadoop.apache.org/docs/stable/api/org/apache/hadoop/fs/FileSystem.html).
"""

from __future__ import annotations

from typing import Any


class HadoopFiles:
    """Files under ``root`` (a URI or a local path); names are relative to it, '/'-separated."""

    def __init__(self, spark: Any, root: str) -> None:
        self.jvm = spark.sparkContext._jvm
        conf = spark.sparkContext._jsc.hadoopConfiguration()
        self.root = root.rstrip("/")
        base = self.jvm.org.apache.hadoop.fs.Path(self.root)
        self.fs = base.getFileSystem(conf)
        self.base = self.fs.makeQualified(base)

    def _path(self, name: str) -> Any:
        return self.jvm.org.apache.hadoop.fs.Path(self.base, name) if name else self.base

    def uri(self, name: str = "") -> str:
        """The full URI of ``name``, as Spark's readers and writers take it."""
        return str(self._path(name).toString())

    def exists(self, name: str) -> bool:
        return bool(self.fs.exists(self._path(name)))

    def read_text(self, name: str) -> str:
        stream = self.fs.open(self._path(name))
        try:
            scanner = self.jvm.java.util.Scanner(stream, "UTF-8").useDelimiter("\\A")
            return str(scanner.next()) if scanner.hasNext() else ""
        finally:
            stream.close()

    def write_text(self, name: str, text: str) -> None:
        """Write ``name`` whole: to a temporary name, then renamed over it (atomic on HDFS and
        local disks; S3 has no rename, but a PUT is all or nothing there)."""
        target, temporary = self._path(name), self._path(name + ".tmp")
        stream = self.fs.create(temporary, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        self.fs.delete(target, False)
        if not self.fs.rename(temporary, target):
            raise OSError(f"cannot rename {temporary} to {target}")

    def files(self, name: str) -> list[str]:
        """Every data file under ``name`` (recursively), relative to the root; Hadoop's and
        Spark's bookkeeping (``_SUCCESS``, ``.crc``, names starting with ``.`` or ``_``)
        left out."""
        if not self.exists(name):
            return []
        found = []
        listing = self.fs.listFiles(self._path(name), True)
        prefix = str(self.base.toString()).rstrip("/") + "/"
        while listing.hasNext():
            path = str(listing.next().getPath().toString())
            leaf = path.rsplit("/", 1)[-1]
            if not leaf.startswith((".", "_")):
                found.append(path[len(prefix) :] if path.startswith(prefix) else path)
        return sorted(found)

    def names(self, folder: str) -> list[str]:
        """The entries directly inside ``folder``, by name."""
        if not self.exists(folder):
            return []
        return sorted(str(s.getPath().getName()) for s in self.fs.listStatus(self._path(folder)))

    def move(self, source: str, target: str) -> None:
        parent = self._path(target).getParent()
        self.fs.mkdirs(parent)
        if not self.fs.rename(self._path(source), self._path(target)):
            raise OSError(f"cannot move {source} to {target}")

    def delete(self, name: str) -> None:
        self.fs.delete(self._path(name), True)
