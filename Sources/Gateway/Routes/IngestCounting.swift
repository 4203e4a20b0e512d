import Pipeline

extension TickInput {
    /// Counts a batch's invalid ticks by field: one table update per distinct field.
    func countInvalid(_ fields: [String]) {
        guard !fields.isEmpty else { return }
        var byField: [String: Int] = [:]
        for field in fields { byField[field, default: 0] += 1 }
        for (field, n) in byField { rejectedInvalid.add(field, n) }
    }
}
