import GRDB

/// The history database's tables, created and upgraded by a `DatabaseMigrator`.
///
/// - `quotes`: one row per record of the log, unique by (topic, partition, offset) (v2; v1
///   had (symbol, seq), but a restarted pricer starts its seqs at 1 again); indexed by (symbol, ts) for
///   "X between T1 and T2" and "X at or before T" (seq breaks ties of ts), and by ts for
///   replays of all symbols.
/// - `candles_1s`, `candles_1m`: OHLCV per symbol and bucket, kept in the transaction that
///   writes the quotes. `open_ts`/`close_ts` let out-of-order quotes land correctly.
/// - `sink_offsets`: the next offset to consume per partition, committed with the rows.
/// - `partition_owners`: which sink (owner, group generation) may write a partition.
enum HistorySchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE quotes (
                    symbol TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    ts INTEGER NOT NULL,
                    bid REAL NOT NULL,
                    ask REAL NOT NULL,
                    last REAL NOT NULL,
                    volume INTEGER NOT NULL,
                    topic TEXT NOT NULL,
                    partition INTEGER NOT NULL,
                    offset INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX quotes_symbol_seq ON quotes(symbol, seq);
                CREATE INDEX quotes_symbol_ts ON quotes(symbol, ts, seq);
                CREATE INDEX quotes_ts ON quotes(ts);
                """)
            for interval in CandleInterval.allCases {
                try db.execute(sql: """
                    CREATE TABLE \(interval.table) (
                        symbol TEXT NOT NULL,
                        bucket INTEGER NOT NULL,
                        open REAL NOT NULL,
                        high REAL NOT NULL,
                        low REAL NOT NULL,
                        close REAL NOT NULL,
                        volume INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        open_ts INTEGER NOT NULL,
                        close_ts INTEGER NOT NULL,
                        PRIMARY KEY (symbol, bucket)
                    ) WITHOUT ROWID
                    """)
            }
            try db.execute(sql: """
                CREATE TABLE sink_offsets (
                    topic TEXT NOT NULL,
                    partition INTEGER NOT NULL,
                    next_offset INTEGER NOT NULL,
                    PRIMARY KEY (topic, partition)
                ) WITHOUT ROWID;
                CREATE TABLE partition_owners (
                    topic TEXT NOT NULL,
                    partition INTEGER NOT NULL,
                    owner TEXT NOT NULL,
                    generation INTEGER NOT NULL,
                    PRIMARY KEY (topic, partition)
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v2: quotes unique by log position") { db in
            try db.execute(sql: """
                DROP INDEX quotes_symbol_seq;
                CREATE UNIQUE INDEX quotes_position ON quotes(topic, partition, offset);
                """)
        }
        return migrator
    }
}
