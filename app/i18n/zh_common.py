"""Chinese texts shared across the studio (English source text -> Simplified Chinese)."""

TABLE: dict[str, str] = {
    "Training": "训练",
    "Embedding space": "嵌入空间",
    "Batch": "批次",
}
