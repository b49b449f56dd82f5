"""Chinese texts of the window, its menus, the run bar, the welcome and Help (app/shell)."""

TABLE: dict[str, str] = {
    "SimCSE Studio": "SimCSE Studio",
    "&File": "文件(&F)",
    "&View": "视图(&V)",
    "&Presets": "预设(&P)",
    "&Compare": "比较(&C)",
    "E&xport": "导出(&X)",
    "&Help": "帮助(&H)",
    # first steps and the welcome
    "Trains the first-run recipe: the default model with its top layer re-initialised, 100 steps on the demo corpus "
    "(a few minutes on a laptop). The loss falls from its chance line and the points spread over the sphere.":
        "训练首次运行配方：默认模型的顶层重新初始化，在演示语料上训练 100 步（笔记本电脑上几分钟）。"
        "损失从随机水平线开始下降，各点在球面上散开。",
    "Open a run folder (replay)…": "打开运行文件夹（回放）…",
    "Follow a run folder…": "跟踪运行文件夹…",
    "stopping the current run; the new one starts when it has stopped": "正在停止当前运行；停止后新运行将开始",
    "First-run recipe": "首次运行配方",
    "From scratch": "从头训练",
    "Choose a corpus…": "选择语料…",
    "{why}. Trains the reference recipe.": "{why}。将训练参考配方。",
    "Watch SimCSE learn": "观看 SimCSE 学习",
    "Fine-tune on my corpus…": "在我的语料上微调…",
    "The pretrained all-MiniLM-L6-v2 on your sentences (.txt, .csv, .tsv or .jsonl): choose the file, check the "
    "Setup panel, press Train.":
        "在你的句子（.txt、.csv、.tsv 或 .jsonl）上训练预训练的 all-MiniLM-L6-v2：选择文件，检查“设置”面板，然后按“训练”。",
    "Open or follow a run…": "打开或跟踪运行…",
    "A finished run folder (replayed), or one that `simcse train` is writing, here or on a server through a shared "
    "folder (followed, even before it starts).":
        "已完成的运行文件夹（回放），或 `simcse train` 正在写入的文件夹——本机或通过共享文件夹在服务器上"
        "（跟踪，甚至在运行开始之前）。",
    "Presets…": "预设…",
    "Runs that show one idea each (temperature, dropout, from scratch), compared side by side when they finish.":
        "每个运行展示一个概念（温度、dropout、从头训练），完成后并排比较。",
    "Dropout {p}": "Dropout 设为 {p}",
    " (too short to see anything learnt). ": "（太短，看不出学到了什么）。",
    "The corpus has {n} sentences and the batch is {batch}: the batch would be cut to {used} and the run would "
    "take {steps} steps": "语料有 {n} 个句子，批次大小为 {batch}：批次将被缩减为 {used}，运行共 {steps} 步",
    "The corpus has {n} sentences and the batch is {batch}: the batch would be cut to {used} and the run would "
    "take 1 step": "语料有 {n} 个句子，批次大小为 {batch}：批次将被缩减为 {used}，运行只有 1 步",
    "Batch {batch} on {n} sentences gives {steps} steps in all": "{n} 个句子、批次 {batch}，共 {steps} 步",
    "Batch {batch} on {n} sentences gives 1 step in all": "{n} 个句子、批次 {batch}，共只有 1 步",
    "Batch {fit} gives {per_epoch} steps an epoch; cycling over the corpus for 100 steps shows learning.":
        "批次 {fit} 每轮 {per_epoch} 步；在语料上循环训练 100 步即可看到学习过程。",
    "Nothing to learn here: the step-0 loss is already {loss}, under 5% of chance ({chance}). The model already "
    "tells these sentences apart, so the curves will stay flat. Ways to watch SimCSE learn:":
        "这里没什么可学的：第 0 步的损失已是 {loss}，低于随机水平（{chance}）的 5%。模型已能区分这些句子，"
        "曲线将保持平坦。观看 SimCSE 学习的方法：",
    "Batch {fit}, 100 steps": "批次 {fit}，100 步",
    "Batch {fit}": "批次 {fit}",
    "the presets module cannot be loaded ({error})": "无法加载预设模块（{error}）",
    "the first-run recipe is missing ({error}); the reference recipe is used instead":
        "缺少首次运行配方（{error}）；改用参考配方",
    "preset {name}: {error}": "预设 {name}：{error}",
    "Train anyway": "仍然训练",
    # Help
    "<b>SimCSE Studio</b><p>Watch SimCSE training happen, step by step: a sentence encoder learns to tell "
    "sentences apart from two dropout views of each sentence.</p>":
        "<b>SimCSE Studio</b><p>一步一步观看 SimCSE 训练：句子编码器通过每个句子的两个 dropout 视图学会区分句子。</p>",
    "Using the studio": "使用工作室",
    "The engine and the simcse command": "引擎与 simcse 命令",
    "Presets": "预设",
    "Benchmarks": "基准测试",
    "How the code is built": "代码结构",
    "false negatives table: confirm, reject, back to pending (then the next row)":
        "假负例表格：确认、拒绝、退回待定（然后到下一行）",
    "false negatives table: previous / next row": "假负例表格：上一行 / 下一行",
    "double-click": "双击",
    "a plot: back to its full span after a zoom": "图表：缩放后恢复完整范围",
    "Keyboard shortcuts": "键盘快捷键",
    "&Welcome…": "欢迎(&W)…",
    "&Keyboard shortcuts": "键盘快捷键(&K)",
    "&About SimCSE Studio": "关于 SimCSE Studio(&A)",
    "About SimCSE Studio": "关于 SimCSE Studio",
    "keys": "按键",
    "does": "作用",
    "SimCSE Studio: {name}": "SimCSE Studio：{name}",
    "# Not installed here\n\n`{path}` is not on this machine: the documentation is in the project's `docs/` folder.":
        "# 未安装\n\n本机上没有 `{path}`：文档位于项目的 `docs/` 文件夹中（英文）。",
    "Language": "语言",
    "Language: {name}.": "语言：{name}。",
    # the window
    "Setup": "设置",
    "Neighbours": "近邻",
    "&Open run folder…": "打开运行文件夹(&O)…",
    "&Follow run folder…": "跟踪运行文件夹(&F)…",
    "&Embedding space": "嵌入空间(&E)",
    "&Training plots": "训练曲线(&T)",
    "Reset setup to the reference recipe": "将设置重置为参考配方",
    "&Quit": "退出(&Q)",
    "Save model into an empty folder": "将模型保存到空文件夹",
    "nothing to apply: temperature and learning rate are unchanged": "无需应用：温度和学习率均未改变",
    "Follow a run folder": "跟踪运行文件夹",
    "Open a run folder": "打开运行文件夹",
    "stopping the run…": "正在停止运行…",
    "device: {device}": "设备：{device}",
    "UMAP compiling in the background (once)": "UMAP 正在后台编译（仅一次）",
    "applied from the next step: {changes}": "从下一步起生效：{changes}",
    "saving the model to {dest}…": "正在将模型保存到 {dest}…",
    # the run bar
    "Train": "训练",
    "Start a new run with the setup on the left (a new run folder)": "用左侧的设置开始新的运行（新建运行文件夹）",
    "Pause": "暂停",
    "Pause before the next step (the snapshot in progress completes)": "在下一步之前暂停（正在进行的快照会完成）",
    "Resume": "继续",
    "Continue a paused run": "继续已暂停的运行",
    "Stop": "停止",
    "Stop after the current step; a checkpoint and the model are saved": "在当前步之后停止；保存检查点和模型",
    "Apply t / lr": "应用 t / lr",
    "Send the temperature and learning rate of the setup panel to the running trainer (from the next step; "
    "marked on the plots)": "将设置面板中的温度和学习率发送给正在运行的训练器（从下一步起生效；在曲线上标出）",
    "Save model as…": "模型另存为…",
    "Copy the run's model (final, or the latest checkpoint) as a sentence-transformers folder":
        "将本次运行的模型（最终模型或最新检查点）复制为 sentence-transformers 文件夹",
    "ready": "就绪",
    "Dismiss": "关闭",
    "Error: ": "错误：",
    "loading model and data": "正在加载模型和数据",
    "starting the training thread": "正在启动训练线程",
    "stopped at step {step} / {total}": "已在第 {step} / {total} 步停止",
    "finished at step {step} / {total}": "已在第 {step} / {total} 步完成",
    "failed": "失败",
    "step {step} / {total} · {speed} steps/s · ETA {eta}": "第 {step} / {total} 步 · {speed} 步/秒 · 剩余 {eta}",
    "device: {device} (starting…)": "设备：{device}（启动中…）",
    "run: {label}": "运行：{label}",
    "paused at step {step} / {total}": "已在第 {step} / {total} 步暂停",
    "stopping at step {step}…": "正在第 {step} 步停止…",
    # the welcome
    "<p><b>SimCSE Studio</b> trains a sentence encoder with SimCSE and shows it learning, step by step:</p>"
    "<ul style='margin-left:-20px'><li><b>Training</b>: the contrastive loss against its chance line, in-batch "
    "accuracy, the cosines of positives and negatives, alignment and uniformity.</li><li><b>Embedding space</b>: "
    "the probe sentences on the sphere and in UMAP, moving snapshot by snapshot; click a point for its "
    "neighbours.</li><li><b>Panels</b>: the temperature lens (which negatives the loss pushes) and the false "
    "negatives (paraphrases treated as negatives).</li></ul>":
        "<p><b>SimCSE Studio</b> 用 SimCSE 训练句子编码器，并一步一步展示它的学习过程：</p>"
        "<ul style='margin-left:-20px'><li><b>训练</b>：对比损失及其随机水平线、批内准确率、正例与负例的余弦、"
        "对齐度和均匀度。</li><li><b>嵌入空间</b>：探针句子在球面上和 UMAP 中随快照移动；点击一个点查看它的近邻。"
        "</li><li><b>面板</b>：温度透镜（损失推开哪些负例）和假负例（被当作负例的复述句）。</li></ul>",
    "Welcome to SimCSE Studio": "欢迎使用 SimCSE Studio",
    "Show this welcome at start": "启动时显示此欢迎页",
    "Close": "关闭",
    "config field 'learning_rate': not a number ({value!r})": "配置字段 'learning_rate'：不是数字（{value!r}）",
    "These pages are in English only. The studio's menus, messages and the tour (Help > Tour) are translated.":
        "这些文档页面只有英文版。工作室的菜单、消息和导览（帮助 → 导览）均有中文。",
}
