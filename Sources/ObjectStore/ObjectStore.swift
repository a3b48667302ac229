/// Object stores: S3 and a local directory.
