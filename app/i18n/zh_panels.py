"""Chinese texts of the dock panels (app/panels): Setup, temperature lens, false
negatives, dropout views."""

TABLE: dict[str, str] = {
    "Temperature lens": "温度透镜",
    "False negatives": "假负例",
    "Dropout views": "Dropout 视图",
    # dropout views
    "final model": "最终模型",
    "checkpoint": "检查点",
    "; no weights saved at or before the shown step {step}": "；在所示第 {step} 步或之前没有保存的权重",
    "weights of step 0 (the starting model {spec})": "第 0 步的权重（起始模型 {spec}）",
    ", the newest saved at or before the shown step {step}": "，在所示第 {step} 步或之前保存的最新权重",
    "weights of step {step} ({what})": "第 {step} 步的权重（{what}）",
    "<b>Dropout is SimCSE's augmentation.</b> Unsupervised SimCSE feeds each sentence twice; dropout (a random mask "
    "on the network's units) makes the two embeddings differ a little, and the loss pulls that pair together while "
    "pushing the batch's other sentences away.<br>Here one sentence goes through the encoder K times (K/2 pairs) "
    "with dropout p. <b>p = 0</b>: no noise, every view is the eval-mode embedding and the positive pair is trivial. "
    "<b>Same mask</b>: both copies of a pair get one mask, so they are identical and the loss learns nothing from "
    "them. SimCSE's Table 3 (STS-B dev): p 0 &rarr; 71.1, 0.05 &rarr; 81.1, 0.1 &rarr; 82.5, 0.5 &rarr; 71.0; the "
    "same mask at 0.1 &rarr; 43.6.<br>The picture puts each view at its angle to the centre (degrees on the sphere) "
    "in the main directions the views take; the dashed ring is the nearest other sentence's angle: views that reach "
    "it blur the sentence into its neighbour.":
        "<b>Dropout 是 SimCSE 的数据增强。</b>无监督 SimCSE 将每个句子输入两次；dropout（网络单元上的随机掩码）"
        "使两个嵌入略有不同，损失把这一对拉近，同时把批次中的其他句子推开。<br>这里一个句子以 dropout p 通过编码器 "
        "K 次（K/2 对）。<b>p = 0</b>：没有噪声，每个视图都是评估模式的嵌入，正例对毫无意义。<b>相同掩码</b>："
        "一对中的两个副本使用同一个掩码，因此完全相同，损失从中学不到任何东西。SimCSE 表 3（STS-B dev）："
        "p 0 &rarr; 71.1，0.05 &rarr; 81.1，0.1 &rarr; 82.5，0.5 &rarr; 71.0；0.1 下使用相同掩码 &rarr; 43.6。"
        "<br>图中按视图的主要方向，把每个视图放在它与中心的夹角处（球面上的角度）；虚线圆是最近的其他句子的夹角："
        "到达该圆的视图会把句子模糊成它的近邻。",
    "the views sit on the centre (no dropout noise)": "各视图都在中心（没有 dropout 噪声）",
    "far": "远远",
    "the farthest view lies {share} of the way to the nearest other sentence's angle":
        "最远的视图位于到最近其他句子夹角的 {share} 处",
    "the farthest view lies {times} beyond the nearest other sentence's angle: at this p dropout blurs the sentence "
    "into its neighbours": "最远的视图超出最近其他句子的夹角 {times}：在此 p 下，dropout 把句子模糊成它的近邻",
    "A probe sentence (or click a point in a view)": "一个探针句子（或在视图中点击一个点）",
    "no run shown": "未显示运行",
    "Dropout probability of every dropout layer (hidden and attention), 0 to 0.5":
        "每个 dropout 层（隐藏层和注意力）的 dropout 概率，0 到 0.5",
    "Passes through the encoder: K/2 pairs of copies": "通过编码器的次数：K/2 对副本",
    "new masks": "新掩码",
    "Draw the views again with other random masks": "用其他随机掩码重新绘制视图",
    "same mask for both copies": "两个副本使用相同掩码",
    "Give both copies of each pair one dropout mask (SimCSE's \"fixed 0.1\": the positive pair is identical, the "
    "loss learns nothing from it)": "每对的两个副本使用同一个 dropout 掩码（SimCSE 的“fixed 0.1”：正例对完全相同，损失从中学不到东西）",
    "one mask per pair (same mask)": "每对一个掩码（相同掩码）",
    "a mask per copy": "每个副本一个掩码",
    "Sentence:": "句子：",
    "dropout p:": "dropout p：",
    "views K:": "视图数 K：",
    "this model's attention does not go through transformers' attention interface: only its hidden dropout is "
    "applied": "此模型的注意力不经过 transformers 的注意力接口：只应用了隐藏层 dropout",
    "<span style='color:{a}'>&#9679;</span> copy A &nbsp; <span style='color:{b}'>&#9675;</span> copy B (a line "
    "joins each pair) &nbsp; <b>+</b> eval-mode embedding &nbsp; <span style='color:{near}'>&#10005; - -</span> "
    "nearest other sentence":
        "<span style='color:{a}'>&#9679;</span> 副本 A &nbsp; <span style='color:{b}'>&#9675;</span> 副本 B"
        "（连线连接每一对） &nbsp; <b>+</b> 评估模式嵌入 &nbsp; <span style='color:{near}'>&#10005; - -</span> 最近的其他句子",
    "drawing {k} views at p = {p}…": "正在以 p = {p} 绘制 {k} 个视图…",
    "{k} views at p = {p}, {masks}; {weights}": "p = {p} 下 {k} 个视图，{masks}；{weights}",
    "sentence: {text}": "句子：{text}",
    "<b>spread</b> (mean cosine of the views to the centre): {spread}<br><b>positive pair</b> (mean cosine of a "
    "pair's two copies): {pos}<br><b>nearest other sentence</b> (cosine at the shown step): {near}":
        "<b>离散度</b>（各视图与中心的平均余弦）：{spread}<br><b>正例对</b>（一对中两个副本的平均余弦）：{pos}"
        "<br><b>最近的其他句子</b>（所示步的余弦）：{near}",
    "these weights embed the sentence at cosine {cos} to the shown step's embedding":
        "这些权重得到的句子嵌入与所示步的嵌入余弦为 {cos}",
    "dropout views failed: {error}": "dropout 视图失败：{error}",
    "dropout views around the eval-mode embedding": "评估模式嵌入周围的 dropout 视图",
    "angle from the centre (°), 1st direction": "与中心的夹角（°），第 1 方向",
    "angle (°), 2nd direction": "夹角（°），第 2 方向",
    "copy A": "副本 A",
    "copy B": "副本 B",
    # false negatives
    "probe scan": "探针集扫描",
    "{what} failed: {error}": "{what}失败：{error}",
    "batch detection": "批次检测",
    "scanning the probe set…": "正在扫描探针集…",
    "eliminate (leave out of the denominator)": "剔除（从分母中去掉）",
    "attract (count as extra positives)": "吸引（算作额外的正例）",
    "none (inspect only)": "无（仅查看）",
    "the probe sentences are unknown: the reference model cannot encode them; scanning without it…":
        "探针句子未知：参考模型无法编码它们；不使用参考模型扫描…",
    "scanning the probe set (encoding with the reference model)…": "正在扫描探针集（用参考模型编码）…",
    "filter sentences or ids…": "筛选句子或 ID…",
    "all reasons": "所有原因",
    "any status": "任意状态",
    "C: confirm · R: reject · U: back to pending · ↑/↓: move": "C：确认 · R：拒绝 · U：退回待定 · ↑/↓：移动",
    "How later training steps handle confirmed pairs": "之后的训练步如何处理已确认的句对",
    "no probe embeddings yet: start or open a run": "尚无探针嵌入：请开始或打开一个运行",
    "against the corpus's <b>group</b> column: precision {precision} ({tp} of {found} pairs), recall {recall} "
    "({tp} of {n_true} true pairs), F1 {f1}":
        "对照语料的 <b>group</b> 列：精确率 {precision}（{found} 对中的 {tp} 对），召回率 {recall}"
        "（{n_true} 个真实句对中的 {tp} 对），F1 {f1}",
    "Confirm (C)": "确认 (C)",
    "Reject (R)": "拒绝 (R)",
    "Pending (U)": "待定 (U)",
    "confirmed pairs:": "已确认的句对：",
    "a scan is already running…": "已有扫描在运行…",
    "probe scan at step {step}: {n} candidate pairs ({added} new)": "第 {step} 步的探针集扫描：{n} 个候选句对（{added} 个新的）",
    "the running trainer keeps pairs it was sent; the change applies to the next run":
        "正在运行的训练器保留已发送的句对；此更改在下一次运行时生效",
    "{n} candidate pairs · {confirmed} confirmed · {rejected} rejected · keys: C confirm, R reject, U pending":
        "{n} 个候选句对 · {confirmed} 个已确认 · {rejected} 个已拒绝 · 按键：C 确认，R 拒绝，U 待定",
    "could not save the triage to {folder}: {error}": "无法将分拣结果保存到 {folder}：{error}",
    "triage of this run not loaded: {error}": "未加载此运行的分拣结果：{error}",
    "anchor": "锚点",
    "candidate": "候选",
    "reason": "原因",
    "source / step": "来源 / 步",
    "status": "状态",
    "pending": "待定",
    "confirmed": "已确认",
    "rejected": "已拒绝",
    "threshold": "阈值",
    "duplicate": "重复",
    "near duplicate": "近似重复",
    "top-k": "top-k 近邻",
    "reference": "参考模型",
    "detected by: ": "检测方式：",
    "sentence {id} (text unknown)": "句子 {id}（文本未知）",
    "no reference model": "无参考模型",
    "starting model (frozen, from the run config)": "起始模型（冻结，来自运行配置）",
    "another local model folder…": "其他本地模型文件夹…",
    "Detectors": "检测器",
    "cosine ≥": "余弦 ≥",
    "exact and near duplicates": "完全重复和近似重复",
    "FNC top-k": "FNC top-k",
    "False-negative cancellation (Huynh et al. 2022): among the anchor's k most similar sentences and at or above "
    "the score": "假负例消除（Huynh et al. 2022）：在锚点最相似的 k 个句子中，且分数不低于阈值",
    "DCLR (Zhou et al. 2022): a negative whose cosine under a frozen reference model exceeds the threshold is a "
    "candidate": "DCLR（Zhou et al. 2022）：在冻结的参考模型下余弦超过阈值的负例为候选",
    "ref ≥ ": "参考 ≥ ",
    "Reference:": "参考模型：",
    "reference model folder": "参考模型文件夹",
    "Scan probe set": "扫描探针集",
    "Run the detectors over the whole probe set (in the background)": "在整个探针集上运行检测器（后台）",
    "every new batch": "每个新批次",
    "Run the detectors on every new snapshot's batch (in the background)": "在每个新快照的批次上运行检测器（后台）",
    "Export triage decisions": "导出分拣决定",
    "Import triage decisions": "导入分拣决定",
    "Triage (*.csv *.json)": "分拣结果 (*.csv *.json)",
    "negatives masked per step (n_masked)": "每步被屏蔽的负例数（n_masked）",
    "Reference model folder": "参考模型文件夹",
    "Export CSV…": "导出 CSV…",
    "Export JSON…": "导出 JSON…",
    "Import…": "导入…",
    "CSV (*.csv)": "CSV 文件 (*.csv)",
    "JSON (*.json)": "JSON 文件 (*.json)",
    "imported {n} decisions from {path}": "已从 {path} 导入 {n} 个决定",
    "export failed: {error}": "导出失败：{error}",
    "import failed: {error}": "导入失败：{error}",
    # temperature lens
    "<b>What the temperature does.</b> Each negative j of anchor i takes a share r<sub>ij</sub> = "
    "exp(s<sub>ij</sub>/t) / &Sigma;<sub>k</sub> exp(s<sub>ik</sub>/t) of the push away from the anchor (a "
    "Boltzmann distribution over the negatives' cosines).<br>&bull; <b>t &rarr; 0</b>: all the weight goes to the "
    "hardest negative (top-1 share &rarr; 1, exp(H) &rarr; 1); the loss becomes (1/t)&middot;max(s<sub>max</sub> "
    "&minus; s<sub>ii</sub>, 0), a margin-0 triplet loss on that single negative.<br>&bull; <b>t &rarr; "
    "&infin;</b>: every negative weighs the same, 1/(N&minus;1) (exp(H) &rarr; N&minus;1); nothing is hard and "
    "the loss tends to log N.<br>&bull; <b>The uniformity-tolerance dilemma</b> (Wang and Liu 2021): a small t "
    "spreads the embeddings uniformly over the sphere but pushes apart semantically similar sentences (false "
    "negatives: paraphrases, duplicates); a large t tolerates them but spreads the space less. SimCSE trains at "
    "t = 0.05.<br>The slider recomputes r at t' from the cached cosines, without retraining; <i>Apply t' to "
    "training</i> changes the running trainer's temperature from its next step.":
        "<b>温度的作用。</b>锚点 i 的每个负例 j 分得把它推离锚点的推力的一份 r<sub>ij</sub> = "
        "exp(s<sub>ij</sub>/t) / &Sigma;<sub>k</sub> exp(s<sub>ik</sub>/t)（负例余弦上的玻尔兹曼分布）。"
        "<br>&bull; <b>t &rarr; 0</b>：全部权重落在最难的负例上（top-1 份额 &rarr; 1，exp(H) &rarr; 1）；"
        "损失变为 (1/t)&middot;max(s<sub>max</sub> &minus; s<sub>ii</sub>, 0)，即针对这一个负例、间隔为 0 的三元组损失。"
        "<br>&bull; <b>t &rarr; &infin;</b>：每个负例权重相同，均为 1/(N&minus;1)（exp(H) &rarr; N&minus;1）；"
        "没有难负例，损失趋于 log N。<br>&bull; <b>均匀性–容忍度困境</b>（Wang and Liu 2021）：小的 t 使嵌入在球面上"
        "均匀分布，但会推开语义相近的句子（假负例：复述句、重复句）；大的 t 容忍它们，但空间铺展得较少。SimCSE 在 "
        "t = 0.05 下训练。<br>滑块根据缓存的余弦重新计算 t' 下的 r，无需重新训练；<i>将 t' 应用到训练</i>会从下一步起"
        "改变正在运行的训练器的温度。",
    "no batch yet": "尚无批次",
    "Pick an anchor among the last batch's sentences (or click a point in a view)": "从最近一个批次的句子中选择锚点（或在视图中点击一个点）",
    "last batch": "最近批次",
    "probe set": "探针集",
    "The anchor's negatives: the other sentences of the last batch (what the loss saw), or the fixed probe set. It "
    "shows what the lens draws: an anchor that is not in the last batch is drawn against the probe set":
        "锚点的负例：最近批次中的其他句子（损失看到的），或固定的探针集。这里显示透镜所画的内容：不在最近批次中的锚点"
        "将对照探针集绘制",
    "What-if temperature t', logarithmic from 0.001 to 1": "假设温度 t'，对数刻度，0.001 到 1",
    "Apply t' to training": "将 t' 应用到训练",
    "Change the running training's temperature to t' from its next step (marked on the loss and temperature curves)":
        "从下一步起把正在运行的训练的温度改为 t'（在损失和温度曲线上标出）",
    "Anchor:": "锚点：",
    "against:": "对照：",
    "t' (log):": "t'（对数）：",
    "#{rank}: sentence {id}, cosine {cos}, r at t {r_t}, r at t' {r_tp} — {text}":
        "#{rank}：句子 {id}，余弦 {cos}，t 下 r {r_t}，t' 下 r {r_tp} — {text}",
    "reading the batch of step {step} from the run folder…": "正在从运行文件夹读取第 {step} 步的批次…",
    "last batch (step {step}, {n} negatives)": "最近批次（第 {step} 步，{n} 个负例）",
    "probe set ({n} nearest negatives)": "探针集（{n} 个最近的负例）",
    "<b>anchor {id}</b>": "<b>锚点 {id}</b>",
    "<b>anchor {id}</b> <i>(automatic: the batch's first sentence; click a point or pick one to draw its edges on "
    "the maps)</i>": "<b>锚点 {id}</b> <i>（自动：批次的第一个句子；点击一个点或选择一个，即可在图上画出它的连线）</i>",
    "(text unknown)": "（文本未知）",
    "{who} against the {where}; positive cosine {cos}": "{who} 对照{where}；正例余弦 {cos}",
    "sentence {id} is neither in the last batch nor in the probe set": "句子 {id} 既不在最近批次中，也不在探针集中",
    "<span style='color:{t_color}'>&#9632;</span> r at t &nbsp; <span style='color:{tp_color}'>&#9632;</span> r "
    "at t' &nbsp; <span style='color:#555'>&middot;&middot;&middot;</span> cosine (scaled to the largest r)":
        "<span style='color:{t_color}'>&#9632;</span> t 下的 r &nbsp; <span style='color:{tp_color}'>&#9632;</span> "
        "t' 下的 r &nbsp; <span style='color:#555'>&middot;&middot;&middot;</span> 余弦（按最大 r 缩放）",
    "hover a bar for the negative's sentence": "悬停在柱上查看该负例的句子",
    "entropy H": "熵 H",
    "entropy H of r over the negatives": "r 在负例上的熵 H",
    "effective number of negatives exp(H): 1 (one hard negative) to N-1 (all equal)":
        "有效负例数 exp(H)：1（只有一个难负例）到 N-1（全部相同）",
    "top-1 share": "top-1 份额",
    "share of the push on the hardest negative": "最难负例所受推力的份额",
    "top-5 share": "top-5 份额",
    "share of the push on the 5 hardest negatives": "最难的 5 个负例所受推力的份额",
    "pos. gradient": "正例梯度",
    "the positive's gradient weight (1 − P_ii)/t": "正例的梯度权重 (1 − P_ii)/t",
    "the anchor's loss −log P_ii (never below 0)": "锚点的损失 −log P_ii（不低于 0）",
    "share of the push r_ij per negative": "每个负例的推力份额 r_ij",
    "negative rank by cosine": "按余弦排序的负例名次",
    "r_ij (share)": "r_ij（份额）",
    "r at t": "t 下的 r",
    "r at t'": "t' 下的 r",
    "cosine (scaled to max r)": "余弦（按最大 r 缩放）",
    "batch: largest r_ij per anchor": "批次：每个锚点的最大 r_ij",
    "batch: exp(H) per anchor": "批次：每个锚点的 exp(H)",
    "anchors": "锚点数",
    "exp(H) of {n}": "exp(H)（共 {n}）",
    "batch means — largest r: {top_t} at t, {top_tp} at t'; exp(H): {eff_t} at t, {eff_tp} at t'; loss: {loss_t} "
    "at t, {loss_tp} at t'": "批次均值 — 最大 r：t 下 {top_t}，t' 下 {top_tp}；exp(H)：t 下 {eff_t}，t' 下 {eff_tp}；"
                             "损失：t 下 {loss_t}，t' 下 {loss_tp}",
    # triplet section
    "Triplet loss (metric learning) on the anchor's hardest negative: max(0, m + s_hard − s_pos). InfoNCE "
    "(contrastive) weighs all negatives: −log softmax(s/t')[pos]. As t' → 0, t'·InfoNCE = t'·log Σ_j exp(s_j/t') − "
    "s_pos → max_j s_j − s_pos = max(0, s_hard − s_pos): the triplet loss with margin 0 (0 ≤ t'·InfoNCE − limit ≤ "
    "t'·log N). Move t' down to see it.":
        "锚点最难负例上的三元组损失（度量学习）：max(0, m + s_hard − s_pos)。InfoNCE（对比学习）对所有负例加权："
        "−log softmax(s/t')[pos]。当 t' → 0 时，t'·InfoNCE = t'·log Σ_j exp(s_j/t') − s_pos → max_j s_j − s_pos = "
        "max(0, s_hard − s_pos)：即间隔为 0 的三元组损失（0 ≤ t'·InfoNCE − 极限 ≤ t'·log N）。把 t' 调低即可看到。",
    "The triplet loss's margin, 0 to 1 (cosine units)": "三元组损失的间隔，0 到 1（余弦单位）",
    "triplet margin m:": "三元组间隔 m：",
    "metric vs contrastive: no anchor": "度量学习与对比学习：无锚点",
    "<b>triplet</b> on the hardest negative (s_hard {hard}, s_pos {pos}): max(0, m + s_hard − s_pos) = "
    "<b>{triplet}</b><br><b>InfoNCE</b> over all {n} negatives at t' = {tp}: <b>{infonce}</b>; t'·InfoNCE = "
    "<b>{scaled}</b> &rarr; {limit} = max(0, s_hard − s_pos) as t' &rarr; 0":
        "最难负例上的<b>三元组</b>损失（s_hard {hard}，s_pos {pos}）：max(0, m + s_hard − s_pos) = <b>{triplet}</b>"
        "<br>t' = {tp} 下全部 {n} 个负例上的 <b>InfoNCE</b>：<b>{infonce}</b>；t'·InfoNCE = <b>{scaled}</b> "
        "&rarr; {limit} = max(0, s_hard − s_pos)（当 t' &rarr; 0）",
}
