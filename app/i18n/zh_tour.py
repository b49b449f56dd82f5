"""Chinese texts of the tour (app/tour) and its two entry points (Help → Tour, the welcome's
"Take the tour"): English source text -> Simplified Chinese. Button and menu names quoted
in the chapters are those of the other tables."""

TABLE: dict[str, str] = {
    'What contrastive learning pulls and pushes':
        '对比学习拉近什么、推开什么',
    '<p>Every sentence of a batch has one <b>positive</b>, here the same sentence seen through a second '
    'dropout mask, and the rest of the batch as <b>negatives</b>. The loss pulls each positive pair '
    'together and pushes the negatives away.</p><p>Wang and Isola (2020) measure the two effects apart. '
    '<b>Alignment</b> = E‖f(x) − f(x⁺)‖²: how close the positive pairs sit (lower is better). <b>Uniformity</b>'
    ' = log E exp(−2‖f(x) − f(y)‖²): how evenly all sentences cover the sphere, 0 when they collapse '
    'to one point, about −4 when they are spread uniformly.</p><p>Metric learning with a triplet loss '
    'looks at one negative per anchor and is content once it lies a margin further away than the positive. '
    'Contrastive learning (InfoNCE) weighs all the negatives of the batch at once, through a softmax; '
    'as t → 0, t·InfoNCE tends to max(0, s_hardest − s_pos): the triplet loss on the hardest negative, '
    'with margin 0.</p>':
        '<p>批次中的每个句子都有一个<b>正例</b>（这里是同一个句子经过另一个 dropout 掩码得到的副本）'
        '，批次里其余的句子都是它的<b>负例</b>。损失把每对正例拉近，把负例推开。</p><p>Wang 和 Isola（2020）'
        '把这两种作用分开度量。<b>对齐度（alignment）</b>= E‖f(x) − f(x⁺)‖²：正例对靠得有多近（越低越好）'
        '。<b>均匀度（uniformity）</b>= log E exp(−2‖f(x) − f(y)‖²)：所有句子在球面上铺得有多均匀，'
        '全部塌缩到一点时为 0，均匀分布时约为 −4。</p><p>度量学习用三元组损失（triplet loss），每个锚点只看一个'
        '负例，只要它比正例远出一个间隔（margin）就满足了。对比学习（InfoNCE）则通过 softmax 同时权衡批次中的所'
        '有负例；当 t → 0 时，t·InfoNCE 趋于 max(0, s_hardest − s_pos)，即作用在最难负例上、间隔为 '
        '0 的三元组损失。</p>',
    'Watch the trajectory on the right: one point per snapshot, uniformity across, alignment up, lower '
    'is better on both. A run that learns moves left (more uniform) without climbing (pairs kept close). '
    'Then press Ctrl+E: the same spreading, on the sphere of the embedding space.':
        '看右侧的轨迹图：每个快照一个点，横轴是均匀度，纵轴是对齐度，两者都是越低越好。正在学习的训练会向左移动'
        '（更均匀）而不向上爬（正例对保持靠近）。然后按 Ctrl+E：在嵌入空间的球面上也能看到同样的散开。',
    'False negatives in a batch':
        '批次中的假负例',
    '<p>The negatives of SimCSE are simply the other sentences that happen to share the batch. Nobody '
    'checks them: when two of them mean the same thing (a paraphrase, a line repeated in the corpus) '
    'the loss still pushes them apart. Such a pair is a <b>false negative</b>, and a small temperature '
    "pushes hardest on exactly such close pairs.</p><p>This panel looks for them in every snapshot's "
    "batch: a cosine above a threshold, exact or near duplicates, an anchor's top-k, or a frozen reference "
    "model. Each row gives the pair's share r_ij of its anchor's push. A pair you confirm can be left "
    'out of the denominator (<i>eliminate</i>) or counted as a second positive (<i>attract</i>) from '
    'the next training step.</p>':
        '<p>SimCSE 的负例只是恰好落在同一批次里的其他句子，没有人检查它们：当其中两句意思相同（一句复述，'
        '或语料中重复的一行）时，损失照样把它们推开。这样的一对就是<b>假负例（false negative）</b>，'
        '而较小的温度恰恰对这种相近的句对推得最狠。</p><p>这个面板在每个快照的批次中寻找它们：余弦高于阈值、'
        '完全或近似重复、锚点的 top-k，或一个冻结的参考模型。每一行给出该句对在其锚点所受推力中的份额 '
        'r_ij。你确认的句对可以从下一个训练步起移出分母（<i>eliminate</i>，剔除），或算作第二个正例（<i>attract'
        '</i>，吸引）。</p>',
    "Click a row: both sentences are marked in the views and the anchor becomes the temperature lens's "
    'anchor. Press C to confirm it or R to reject it. No rows yet? Press "Scan probe set".':
        '点击一行：两个句子会在各视图中标出，锚点也会成为温度透镜的锚点。按 C 确认，按 R 拒绝。还没有任何行？按'
        '面板上的“扫描探针集”按钮。',
    'InfoNCE is a cross-entropy':
        'InfoNCE 就是交叉熵',
    "<p>InfoNCE makes each row of the batch's similarity matrix a classification: <i>which column is "
    "my positive?</i> The row's cosines divided by the temperature t are the logits of a softmax, and "
    "row i's loss is the cross-entropy with its positive's column as the label:</p><p style='margin-left:14px'>"
    'ℓ_i = −log( exp(s_ii/t) / Σ_j exp(s_ij/t) )</p><p>This is the N × N layout of the reference code: '
    'rows are the first views z1, columns the second views z2, labels 0..N−1, so each row has its positive '
    "on the diagonal and N − 1 negatives. The batch's loss is the mean over the rows; sentence-transformers' "
    'MultipleNegativesRankingLoss computes the same with scale 20 = 1/t. A model that cannot tell sentences '
    'apart scores log N, the chance line of the loss plot (4.16 at N = 64).</p>':
        '<p>InfoNCE 把批次相似度矩阵的每一行变成一道分类题：<i>哪一列是我的正例？</i>该行的余弦除以温度 '
        "t 就是 softmax 的 logits，第 i 行的损失就是以其正例所在列为标签的交叉熵：</p><p style='margin-left:14p"
        "x'>ℓ_i = −log( exp(s_ii/t) / Σ_j exp(s_ij/t) )</p><p>这是参考实现的 N × N 布局：行是第一视图 "
        'z1，列是第二视图 z2，标签为 0..N−1，所以每行的正例在对角线上，另有 N − 1 个负例。批次的损失是各行的平均'
        '；sentence-transformers 的 MultipleNegativesRankingLoss 计算的是同一个量，其 scale 20 = 1/t。'
        '分不清句子的模型得分为 log N，即损失图上的随机水平线（N = 64 时为 4.16）。</p>',
    "Click a row of the matrix: the bars beside it are that row's softmax (its positive in green) and "
    'the line under them gives its loss −log p(label). Set the values box to the row softmax probabilities '
    'to see every row at once.':
        '点击矩阵的一行：旁边的柱状图是该行的 softmax（正例为绿色），下方的文字给出它的损失 −log p(label)。'
        '把数值框切换为行 softmax 概率，就能同时看到每一行。',
    'What the temperature does to hard negatives':
        '温度如何作用于难负例',
    '<p>Each negative j of an anchor i gets a share of the push, r_ij = exp(s_ij/t) / Σ_k exp(s_ik/t) '
    '(the sum over the negatives): a Boltzmann distribution over their cosines. The most similar negatives, '
    'the <b>hard</b> ones, get the largest shares, and the smaller t is, the more the push concentrates '
    'on them. As t → 0 only the single hardest negative counts, as in a triplet loss with margin 0; '
    'as t grows every negative weighs the same (Wang and Liu 2021).</p><p>SimCSE trains at t = 0.05. '
    'A small t spreads the sentences uniformly, but it also pushes apart near-paraphrases that happen '
    'to be negatives: the uniformity–tolerance dilemma.</p>':
        '<p>锚点 i 的每个负例 j 分得一份推力 r_ij = exp(s_ij/t) / Σ_k exp(s_ik/t)（对负例求和）：这是负例余弦上'
        '的玻尔兹曼分布。最相似的负例，即<b>难负例（hard negative）</b>，分得的份额最大；t 越小，推力越集中在它'
        '们身上。当 t → 0 时只有最难的那一个负例起作用，相当于间隔为 0 的三元组损失；t 变大时每个负例的权重趋于'
        '相同（Wang 和 Liu 2021）。</p><p>SimCSE 在 t = 0.05 下训练。较小的 t 让句子分布得更均匀，但也会把恰好成'
        '为负例的近义句推开：这就是均匀性与容忍度的两难（uniformity–tolerance dilemma）。</p>',
    "Move the t' slider: the orange bars are each negative's share of the push at t' (blue: at the "
    'training t), and the table gives the effective number of negatives exp(H). While a run trains, '
    '"Apply t\' to training" sends t\' to the trainer.':
        "拖动 t' 滑块：橙色柱是每个负例在 t' 下分得的推力（蓝色：在训练温度 t 下），表格给出有效负例数 "
        "exp(H)。训练进行时，“将 t' 应用到训练”按钮会把 t' 发送给训练器。",
    'Dropout noise as the augmentation':
        '以 dropout 噪声作数据增强',
    '<p>Unsupervised SimCSE deletes no words and swaps no synonyms. It feeds every sentence to the '
    "encoder twice, and dropout (the encoder's own, p = 0.1) draws a different mask for each copy, "
    'so the two embeddings differ a little. Those two copies are the positive pair; the other sentences '
    'of the batch are the negatives.</p><p>The noise must be just right. On STS-B dev (SimCSE, Table '
    '3) p = 0.1 gives 82.5, no dropout 71.1, p = 0.5 71.0. The same mask for both copies ("fixed 0.1") '
    'gives 43.6: the copies are identical, the positive teaches nothing, and the space collapses.</p>':
        '<p>无监督 SimCSE 不删词，也不换同义词。它把每个句子送进编码器两次，编码器自带的 dropout（p '
        '= 0.1）为每个副本抽取不同的掩码，于是两个嵌入略有差别。这两个副本就是正例对；批次中的其他句子是负例。'
        '</p><p>噪声要恰到好处。在 STS-B 开发集上（SimCSE 论文表 3），p = 0.1 得 82.5，不用 dropout '
        '得 71.1，p = 0.5 得 71.0。两个副本用同一个掩码（“fixed 0.1”）只得 43.6：两个副本完全相同，'
        '正例什么也教不了，空间随之塌缩。</p>',
    'Move the p slider and watch the copies of the sentence spread around its eval-mode embedding (+) '
    'and gather again; then tick "same mask for both copies": each pair\'s two copies fall on one point.':
        '拖动 p 滑块，看句子的各个副本围绕它的评估模式嵌入（+）散开又聚拢；再勾选“两个副本使用相同掩码”：'
        '每对的两个副本落到同一点上。',
    'One unsupervised step, start to end':
        '无监督训练的一步，从头到尾',
    "<p>One step in the seed's formulation (SimCLR's NT-Xent; the loss <i>ntxent</i> in Setup):</p><ol "
    "style='margin-left:-16px'><li>the batch is fed as [a, a, b, b, …], every sentence twice; dropout "
    'makes the copies [a1, a2, b1, b2, …];</li><li>all 2N embeddings are L2-normalised and compared: '
    'a 2N × 2N cosine matrix;</li><li>its diagonal (each view against itself, cosine 1) is set to −10¹²: '
    'it takes no part;</li><li>the matrix is scaled by 1/t (20 at t = 0.05);</li><li>the labels are '
    "[1, 0, 3, 2, …] (i XOR 1): each row's positive is its own other copy, the 2N − 2 other columns "
    "are its negatives;</li><li>the loss is the mean of the rows' cross-entropies; chance is log(2N "
    "− 1), 4.85 at N = 64.</li></ol><p>The reference code's N × N layout (chapter 3) keeps only the "
    'z1-against-z2 block: the same positives, N − 1 negatives a row.</p>':
        "<p>种子实现中的一步（即 SimCLR 的 NT-Xent；设置面板中的损失 <i>ntxent</i>）：</p><ol style='margin-lef"
        "t:-16px'><li>批次以 [a, a, b, b, …] 的形式输入，每个句子两次；dropout 使副本成为 [a1, a2, "
        'b1, b2, …]；</li><li>所有 2N 个嵌入做 L2 归一化后两两比较：得到 2N × 2N 的余弦矩阵；</li><li>对角线（每'
        '个视图与自身，余弦为 1）设为 −10¹²：不参与计算；</li><li>矩阵乘以 1/t（t = 0.05 时为 20）；'
        '</li><li>标签为 [1, 0, 3, 2, …]（i XOR 1）：每行的正例是它自己的另一个副本，其余 2N − 2 列是它的负例；'
        '</li><li>损失是各行交叉熵的平均；随机水平为 log(2N − 1)，N = 64 时为 4.85。</li></ol><p>参考实现的 '
        'N × N 布局（第 3 章）只保留 z1 对 z2 的那一块：正例相同，每行 N − 1 个负例。</p>',
    "Hover the grey diagonal (masked) and the outlined cell beside it (the row's label). The line above "
    "the matrix gives this layout's mean row cross-entropy beside the loss the trainer reported; they "
    'agree when the run trains with this layout.':
        '把鼠标悬停在灰色对角线（已屏蔽）和它旁边带框的格子（该行的标签）上。矩阵上方的一行给出此布局下各行交叉'
        '熵的平均，旁边是训练器报告的损失；训练用的正是这个布局时，两者一致。',
    '← Back':
        '← 上一章',
    'Next →':
        '下一章 →',
    'Close tour':
        '关闭导览',
    'Finish ✓':
        '完成 ✓',
    'Tour · chapter {n} of {total}':
        '导览 · 第 {n} 章，共 {total} 章',
    '<b>Try this:</b> {what}':
        '<b>试一试：</b>{what}',
    'No run is shown yet: this view fills in once a run trains (Help → Welcome → Watch SimCSE learn) '
    'or a run folder is open (File → Open run folder…).':
        '还没有显示任何运行：开始一次训练（帮助 → 欢迎 → 观看 SimCSE 学习）或打开一个运行文件夹（文件 '
        '→ 打开运行文件夹…）后，这个视图才会动起来。',
    '&Tour':
        '导览(&T)',
    'Take the tour':
        '开始导览',
    'Six short chapters, one per question the studio answers, each opening the live view it is about: '
    'with no run, while one trains, or on a replayed run.':
        '六个简短的章节，每章回答一个问题，并打开它所讲的实时视图：没有训练、训练进行中或回放训练时都可以用。',
}
