extension ColumnDescription {
    /// A column with every field given (the daemon rebuilds kept catalog reads with it).
    public init(
        named name: String, attnum: Int, typeOID: UInt32, typmod: Int32, typeName: String, baseTypeOID: UInt32,
        typeKind: Character, elementTypeOID: UInt32, notNull: Bool, dimensions: Int, isPrimaryKey: Bool,
        missingValue: String?
    ) {
        self.name = name; self.attnum = attnum; self.typeOID = typeOID; self.typmod = typmod; self.typeName = typeName
        self.baseTypeOID = baseTypeOID; self.typeKind = typeKind; self.elementTypeOID = elementTypeOID; self.notNull = notNull
        self.dimensions = dimensions; self.isPrimaryKey = isPrimaryKey; self.missingValue = missingValue
    }
}
