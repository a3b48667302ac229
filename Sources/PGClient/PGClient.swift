/// The PostgreSQL client: a Swift wrapper over libpq.
import CLibPQ
