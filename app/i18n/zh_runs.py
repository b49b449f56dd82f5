"""Chinese texts of the run controller, its sources and workers (app/runs), with the
engine's phase texts the studio translates (app.runs.workers.ENGINE_PHASES)."""

TABLE: dict[str, str] = {
    " The run folder keeps its last checkpoint.": " 运行文件夹保留了最后一个检查点。",
    "no run is training: nothing to apply": "没有正在训练的运行：无可应用",
    "a preset is training; stop it first": "一个预设正在训练；请先停止它",
    "a run is training; stop it first": "一个运行正在训练；请先停止它",
    "run {k} of {n}": "第 {k} / {n} 个运行",
    "the followed run has finished": "跟踪的运行已结束",
    "this run has no saved model or checkpoint yet": "此运行尚未保存模型或检查点",
    "this run has no saved model or checkpoint yet ({folder})": "此运行尚未保存模型或检查点（{folder}）",
    "model saved as a sentence-transformers folder: {path}": "模型已保存为 sentence-transformers 文件夹：{path}",
    "the model folder {path} was removed; what was shown is kept, but the run has no model to save (typed "
    "sentences use the starting model)": "模型文件夹 {path} 已被删除；已显示的内容保留，但此运行没有可保存的模型"
                                         "（输入的句子使用起始模型）",
    "waiting for the run in {path} to write its first files": "等待 {path} 中的运行写入第一批文件",
    "preset {name}, run {k} of {n}": "预设 {name}，第 {k} / {n} 个运行",
    "waiting for the run folder {path} to appear (the run has not started yet)": "等待运行文件夹 {path} 出现（运行尚未开始）",
    "following: {path}": "跟踪：{path}",
    "run: {path}": "运行：{path}",
    "loading the model ({model})": "正在加载模型（{model}）",
    "reading and tokenising {corpus}": "正在读取并分词 {corpus}",
    "compiling the model (torch.compile; the first steps are slow)": "正在编译模型（torch.compile；前几步较慢）",
    "{n} sentences tokenised; choosing the probe set": "已分词 {n} 个句子；正在选择探针集",
    "step 0: the starting model on its first batch and the probe set ({n} sentences)":
        "第 0 步：起始模型在第一个批次和探针集（{n} 个句子）上",
    "out of memory; try a smaller batch size or a shorter max length (the last checkpoint is kept)":
        "内存不足；请尝试更小的批次大小或更短的最大长度（保留最后一个检查点）",
    "unexpected error: {error}": "意外错误：{error}",
    "the run folder {path} was removed; what was shown is kept": "运行文件夹 {path} 已被删除；已显示的内容保留",
    "the model folder {path} was removed; nothing to save": "模型文件夹 {path} 已被删除；无可保存",
    "{path}: not a saved model folder": "{path}：不是已保存的模型文件夹",
    "{path}: the folder is not empty; choose an empty or new folder": "{path}：文件夹不为空；请选择空文件夹或新文件夹",
    "run folder {path}: cannot be read ({error})": "运行文件夹 {path}：无法读取（{error}）",
    "{path}: cannot write the model ({error})": "{path}：无法写入模型（{error}）",
    "the model folder {path} was removed while it was copied to {dest}": "模型文件夹 {path} 在复制到 {dest} 时被删除",
    "the default model": "默认模型",
    "model {spec}": "模型 {spec}",
    " (e.g. {chars})": "（例如 {chars}）",
    "{model} cannot read much of this corpus: {tokens} of its tokens become the unknown token and "
    "{chars} of its characters are outside the model's vocabulary{examples}. Those sentences look "
    "alike to the model, so training, the maps and the neighbours mean little. Load a model made for "
    "this language: any local Hugging Face or sentence-transformers folder.":
        "{model}读不懂这个语料的很大一部分：{tokens} 的词元变成了未知词元（[UNK]），{chars} 的字符不在模型的词表里{examples}。"
        "这些句子在模型看来彼此相似，所以训练、各个图和近邻都没有多大意义。请加载为这种语言训练的模型："
        "任何本地的 Hugging Face 或 sentence-transformers 文件夹。",
}
