"""Scale-out on Apache Spark: the same parsers, the same lake layout (see :mod:`awsir.spark.job`).

Needs the ``spark`` extra (``pip install 'awsir[spark]'``: PySpark, pandas) and Java 17 or
later; nothing else in awsir imports this package.
"""
