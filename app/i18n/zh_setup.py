"""Chinese texts of the Setup panel (app/panels/setup_fields.py, setup_panel.py)."""

TABLE: dict[str, str] = {
    "The encoder to fine-tune. The default is all-MiniLM-L6-v2 (6 layers, 384 dims, mean pooling), packaged with "
    "the studio. 'Random init' keeps its architecture and tokenizer with fresh weights: training from scratch shows "
    "the geometry move (collapse, then spreading over the sphere). A local folder may be a Hugging Face or "
    "sentence-transformers model (safetensors). 'Default's words, fresh layers' keeps the default's word embeddings "
    "and re-initialises its six layers (the first-run recipe): the words carry meaning, the sentence geometry must "
    "be learnt.":
        "要微调的编码器。默认是随工作室打包的 all-MiniLM-L6-v2（6 层，384 维，平均池化）。“随机初始化”保留其结构和"
        "分词器但使用全新权重：从头训练可以看到几何结构的变化（先坍缩，再在球面上铺开）。本地文件夹可以是 Hugging Face "
        "或 sentence-transformers 模型（safetensors）。“默认词表，全新层”保留默认模型的词嵌入并重新初始化它的六层"
        "（首次运行配方）：词带有语义，句子的几何结构需要重新学习。",
    "Default: all-MiniLM-L6-v2 (packaged)": "默认：all-MiniLM-L6-v2（已打包）",
    "Default's words, fresh layers (first run)": "默认词表，全新层（首次运行）",
    "Random init of the default (from scratch)": "默认模型随机初始化（从头训练）",
    "Local folder…": "本地文件夹…",
    "Model and data": "模型与数据",
    "Recipe": "配方",
    "Run": "运行",
    "Model": "模型",
    "Corpus": "语料",
    "Training sentences: .txt (one a line), .csv/.tsv with a header (column 'text' or similar), or .jsonl. "
    "Unsupervised SimCSE feeds each sentence twice; the two dropout views are the positive pair, the other "
    "sentences of the batch the negatives. Reference: 1M Wikipedia sentences. Empty lines are skipped; exact "
    "duplicates become false negatives when they share a batch.":
        "训练句子：.txt（每行一句）、带表头的 .csv/.tsv（'text' 或类似的列）或 .jsonl。无监督 SimCSE 将每个句子输入"
        "两次；两个 dropout 视图构成正例对，批次中的其他句子为负例。参考：100 万条维基百科句子。空行会被跳过；完全重复"
        "的句子在同一批次中会成为假负例。",
    "Text column": "文本列",
    "The csv/tsv/jsonl column holding the text. Empty: detected ('text', 'sentence', 'sent0'...).":
        "csv/tsv/jsonl 中存放文本的列。留空：自动检测（'text'、'sentence'、'sent0'…）。",
    "Mode": "模式",
    "unsup: dropout is the only augmentation (a sentence and itself are the positive pair). sup: rows of (sent0, "
    "sent1[, hard_neg]) such as NLI entailment pairs with contradictions as hard negatives. Reference: unsup.":
        "unsup：dropout 是唯一的数据增强（句子与自身构成正例对）。sup：(sent0, sent1[, hard_neg]) 形式的行，"
        "例如以蕴含句对为正例、矛盾句为难负例的 NLI 数据。参考：unsup。",
    "STS eval file": "STS 评估文件",
    "Optional STS file (e.g. STS-B dev: score and two sentences). Spearman x 100 of the cosine with the gold scores "
    "is computed every 'eval every' steps, as SimCSE selects its model on STS-B dev every 125 steps. The default "
    "model starts near 86.7 on STS-B dev.":
        "可选的 STS 文件（例如 STS-B dev：分数和两个句子）。每隔“评估间隔”步计算余弦与标准分数的 Spearman x 100，"
        "就像 SimCSE 每 125 步在 STS-B dev 上选择模型一样。默认模型在 STS-B dev 上起始约为 86.7。",
    "Temperature t of InfoNCE: logits are cos/t. Small t concentrates the gradient on the hardest negatives (more "
    "uniform, less tolerant of false negatives); large t weighs every negative alike. Reference 0.05. Can be changed "
    "while training (Apply).":
        "InfoNCE 的温度 t：logits 为 cos/t。小的 t 把梯度集中在最难的负例上（更均匀，对假负例更不宽容）；大的 t "
        "对每个负例同等加权。参考值 0.05。训练中可以修改（应用）。",
    "Batch size": "批次大小",
    "Sentences per batch N: each has N-1 in-batch negatives (simcse layout) or 2N-2 (ntxent). The chance loss is "
    "log N. Reference 64 (insensitive from 64 to 512 if the learning rate is tuned).":
        "每批次句子数 N：每个句子有 N-1 个批内负例（simcse 布局）或 2N-2 个（ntxent）。随机水平损失为 log N。"
        "参考值 64（若调好学习率，64 到 512 之间不敏感）。",
    "Peak learning rate of AdamW, decayed linearly to 0, no warm-up. Reference 3e-5 for BERT-base (unsup). Can be "
    "changed while training (Apply).": "AdamW 的峰值学习率，线性衰减到 0，无预热。BERT-base（unsup）参考值 3e-5。训练中可以修改（应用）。",
    "Steps": "步数",
    "Optimizer steps to run; 0 uses the epochs below instead. A short run (a few hundred steps) is enough to watch "
    "the geometry move.": "要运行的优化步数；0 表示改用下面的轮数。短运行（几百步）就足以观察几何结构的变化。",
    "Epochs": "轮数",
    "Passes over the corpus (used when steps is 0). Reference: 1 epoch of 1M sentences.":
        "遍历语料的次数（步数为 0 时使用）。参考：100 万句子训练 1 轮。",
    "Max length": "最大长度",
    "Sentences are truncated to this many tokens. Reference 32 (short sentences train faster).":
        "句子被截断到这么多个 token。参考值 32（短句训练更快）。",
    "Pooler": "池化方式",
    "How a sentence vector is taken from the token outputs. auto: the model's own (mean pooling for the default "
    "MiniLM, cls for a plain BERT). cls: [CLS] with SimCSE's MLP (dense + tanh); cls_before_pooler: [CLS] without "
    "the MLP; avg: mean over tokens. Reference for BERT: cls with the MLP in training only.":
        "如何从 token 输出得到句向量。auto：模型自身的方式（默认 MiniLM 为平均池化，普通 BERT 为 cls）。cls：[CLS] 加 "
        "SimCSE 的 MLP（dense + tanh）；cls_before_pooler：不带 MLP 的 [CLS]；avg：对 token 取平均。BERT 的参考设置："
        "cls，且 MLP 仅在训练时使用。",
    "MLP in training only": "MLP 仅用于训练",
    "Use the MLP on top of [CLS] in training only and evaluate without it (the reference unsup recipe: cls in "
    "training, cls_before_pooler at test). Only with pooler cls.":
        "仅在训练时使用 [CLS] 之上的 MLP，评估时不用（参考 unsup 配方：训练用 cls，测试用 cls_before_pooler）。"
        "仅适用于池化方式 cls。",
    "Hidden and attention dropout p: the two dropout masks are SimCSE's only augmentation. Reference 0.1 (the "
    "model's own). p=0 makes the positive pair identical and the space collapses (paper Table 3: 0.0 -> 71.1, "
    "0.1 -> 82.5 STS-B dev).":
        "隐藏层和注意力的 dropout p：两个 dropout 掩码是 SimCSE 唯一的数据增强。参考值 0.1（模型自身的值）。p=0 使"
        "正例对完全相同，空间随之坍缩（论文表 3：0.0 -> 71.1，0.1 -> 82.5，STS-B dev）。",
    "Dropout": "Dropout 概率",
    "Loss": "损失函数",
    "The contrastive loss, from the engine's registry (hover an entry for what it computes). simcse: the reference "
    "N x N logits (N-1 negatives, chance log N); ntxent: SimCLR's 2N x 2N layout with same-view negatives too. "
    "Reference: simcse.":
        "对比损失，来自引擎的注册表（悬停在条目上查看其计算内容）。simcse：参考的 N x N logits（N-1 个负例，随机水平 "
        "log N）；ntxent：SimCLR 的 2N x 2N 布局，同一视图的句子也作为负例。参考：simcse。",
    "Debiased τ+": "去偏 τ+",
    "Debiased contrastive loss (Chuang et al. 2020): the class prior tau_plus, the chance that a negative is in fact "
    "a positive (a false negative); 0 = off. Takes effect when the next run starts.":
        "去偏对比损失（Chuang et al. 2020）：类别先验 tau_plus，即一个负例实际上是正例（假负例）的概率；0 = 关闭。"
        "在下一次运行开始时生效。",
    "Device": "设备",
    "Where to train. auto picks cuda, then mps, then cpu. Reference: one GPU with bf16/fp16.":
        "在哪里训练。auto 依次选择 cuda、mps、cpu。参考：一块使用 bf16/fp16 的 GPU。",
    "Seed": "随机种子",
    "Seeds the batch order, dropout masks and probe set: the same seed and config give the same losses on the CPU. "
    "Reference 42.": "决定批次顺序、dropout 掩码和探针集：在 CPU 上相同的种子和配置得到相同的损失。参考值 42。",
    "Snapshot every": "快照间隔",
    "Every so many steps the trainer encodes the probe set and sends a snapshot (geometry, alignment, uniformity, "
    "last batch's cosines). Smaller: finer plots, slower training. The paper's Figure 2 uses a point every 10 steps.":
        "每隔这么多步，训练器编码探针集并发送一个快照（几何结构、对齐度、均匀度、最近批次的余弦）。越小：曲线越细，"
        "训练越慢。论文图 2 每 10 步取一个点。",
    "Probe size": "探针集大小",
    "Sentences of the fixed probe set encoded at each snapshot (alignment, uniformity, anisotropy and the later "
    "sphere/UMAP views). Larger: smoother estimates, slower snapshots.":
        "每个快照编码的固定探针集的句子数（用于对齐度、均匀度、各向异性以及球面/UMAP 视图）。越大：估计越平滑，快照越慢。",
    "Eval every": "评估间隔",
    "Steps between STS evaluations (reference 125).": "两次 STS 评估之间的步数（参考值 125）。",
    "a Hugging Face or sentence-transformers folder": "Hugging Face 或 sentence-transformers 文件夹",
    "auto": "自动",
    "none": "无",
    "use epochs": "按轮数",
    "model's own (0.1)": "模型自身（0.1）",
    "Model folder": "模型文件夹",
    "Training corpus": "训练语料",
    "Corpora (*.csv *.tsv *.txt *.jsonl);;All files (*)": "语料 (*.csv *.tsv *.txt *.jsonl);;所有文件 (*)",
    "STS evaluation file": "STS 评估文件",
    "STS files (*.csv *.tsv *.txt);;All files (*)": "STS 文件 (*.csv *.tsv *.txt);;所有文件 (*)",
    "Back to my setup": "回到我的设置",
    "Show your own setup again (the run's settings stay in its folder)": "重新显示你自己的设置（运行的设置保留在其文件夹中）",
    "Use these settings": "使用这些设置",
    "Make the run's settings your setup (editable), e.g. to train it again": "把运行的设置作为你的设置（可编辑），例如再训练一次",
    "The first rows of the corpus as the engine reads them": "引擎读取到的语料前几行",
    "reading…": "读取中…",
    "Browse: {what}": "浏览：{what}",
    "the run's corpus (not on this machine)": "运行的语料（不在本机上）",
    "<b>The settings of the shown run</b> (read-only): {label}": "<b>所示运行的设置</b>（只读）：{label}",
    "<b>{n}</b> sentences · {empty} empty lines · {dup} duplicates": "<b>{n}</b> 个句子 · {empty} 个空行 · {dup} 个重复",
}
