/// Parquet file writer.
