<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>BnView</name>
    <message>
        <location filename="../widgets/bn/bn_view.cpp" line="+26"/>
        <source>Batch mean</source>
        <translation>批均值</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Batch variance</source>
        <translation>批方差</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Running mean</source>
        <translation>滑动均值</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Running variance</source>
        <translation>滑动方差</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Normaliser noise</source>
        <translation>归一化统计量噪声</translation>
    </message>
</context>
<context>
    <name>ConfigPages</name>
    <message>
        <location filename="../widgets/config/page_specs.cpp" line="+18"/>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The images to train and validate on, and the size they are resized to.</source>
        <translation>用于训练和验证的图像，以及它们缩放到的尺寸。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The YOLOv8 detector to train: from scratch, or fine-tuned from pretrained weights.</source>
        <translation>要训练的 YOLOv8 检测器：从头训练，或从预训练权重微调。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fine-tuning</source>
        <translation>微调</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Training</source>
        <translation>训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Schedule, optimizer, augmentation and where the run&apos;s results go.</source>
        <translation>训练计划、优化器、数据增强，以及运行结果的保存位置。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Schedule</source>
        <translation>训练计划</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Optimizer</source>
        <translation>优化器</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Augmentation</source>
        <translation>数据增强</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Output</source>
        <translation>输出</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Distributed</source>
        <translation>分布式</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>How many processes train together, and how BatchNorm shares statistics between them.</source>
        <translation>多少个进程共同训练，以及 BatchNorm 如何在它们之间共享统计量。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Ranks</source>
        <translation>进程</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Normalization</source>
        <translation>归一化</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Communication</source>
        <translation>通信</translation>
    </message>
</context>
<context>
    <name>DatasetReport</name>
    <message>
        <location filename="../stores/dataset_report.cpp" line="+76"/>
        <source>The engine&apos;s dataset report has schema %1; this studio reads schema %2. Are the two from one release?</source>
        <translation>引擎的数据集报告使用模式版本 %1；本 Studio 读取的是模式版本 %2。两者是否来自同一发布版本？</translation>
    </message>
</context>
<context>
    <name>EngineLocator</name>
    <message>
        <location filename="../stores/engine_locator.cpp" line="+26"/>
        <source>The engine set in Preferences, %1, is not an executable file.</source>
        <translation>“首选项”中设置的引擎 %1 不是可执行文件。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>PATH (%1)</source>
        <translation>PATH（%1）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>syncbn-engine was not found. Looked in:
%1
Set its location in Preferences.</source>
        <translation>未找到 syncbn-engine。已查找：
%1
请在“首选项”中设置其位置。</translation>
    </message>
</context>
<context>
    <name>EngineText</name>
    <message>
        <location filename="../core/common/engine_text.cpp" line="+15"/>
        <source>each of the {world} ranks normalises over only {per_rank} image(s): BatchNorm statistics from so few images are noise, so the loss oscillates and the ranks&apos; statistics drift apart. Use norm=syncbn to compute them over all {total} images{groupnorm}</source>
        <translation>{world} 个进程各自只在 {per_rank} 张图像上归一化：来自这么少图像的 BatchNorm 统计量只是噪声，因此损失会振荡，各进程的统计量也会彼此偏离。请使用 norm=syncbn，在全部 {total} 张图像上计算统计量{groupnorm}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>, or norm=groupnorm, which does not depend on the batch at all</source>
        <translation>，或使用完全不依赖批次的 norm=groupnorm</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>with a single rank SyncBN has nothing to synchronise: it behaves as plain BN and only adds cost; use norm=bn, or train on more ranks</source>
        <translation>只有一个进程时 SyncBN 没有可同步的内容：它与普通 BN 相同，只会增加开销；请使用 norm=bn，或在更多进程上训练</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>nbs={nbs} accumulates gradients over {accumulate} iterations, which enlarges the optimizer&apos;s batch but not BatchNorm&apos;s: its statistics still come from {bn_batch} image(s)</source>
        <translation>nbs={nbs} 会在 {accumulate} 次迭代上累积梯度，这只增大优化器的批次，而不增大 BatchNorm 的批次：其统计量仍只来自 {bn_batch} 张图像</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>mixed precision needs CUDA; on the CPU it is ignored and training runs in float32</source>
        <translation>混合精度需要 CUDA；在 CPU 上该设置会被忽略，训练以 float32 进行</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>NCCL only moves CUDA tensors and this run has no CUDA device; use backend=gloo or auto</source>
        <translation>NCCL 只能传输 CUDA 张量，而此次运行没有 CUDA 设备；请使用 backend=gloo 或 auto</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>with nnodes={nnodes} the other machines cannot reach {address}; give node 0&apos;s network address</source>
        <translation>nnodes={nnodes} 时其他机器无法访问 {address}；请填写 0 号节点的网络地址</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>freeze={layers} keeps the first {layers} layers at their random initialisation: freezing is for fine-tuning. Start from weights (model=yolov8n.pt, or a run&apos;s best.pt), or set freeze=0</source>
        <translation>freeze={layers} 让前 {layers} 层停留在随机初始化：冻结用于微调。请从权重开始（model=yolov8n.pt，或某次运行的 best.pt），或设置 freeze=0</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>PreciseBN recalibrates BatchNorm running statistics; with norm={norm} there are none to recalibrate</source>
        <translation>PreciseBN 用于重新校准 BatchNorm 的滑动统计量；norm={norm} 时没有可校准的统计量</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Each of {world|rank|ranks} normalises over {per_rank|image|images}. {evidence}.{validation}{oscillation}{fix}</source>
        <translation>{world} 个进程各自只在 {per_rank} 张图像上归一化。{evidence}。{validation}{oscillation}{fix}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The statistics training normalises with are {noise} running-std away from the ones inference uses (median over layers; worst: {layer}, {noise_max})</source>
        <translation>训练时用于归一化的统计量与推理所用的统计量相差 {noise} 个滑动标准差（各层中位数；最差层：{layer}，{noise_max}）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The statistics training normalises with are {noise} running-std away from the ones inference uses (median over layers; worst: {layer}, {noise_max}), and the ranks disagree by {disagreement} ({disagreement_max} in the worst layer)</source>
        <translation>训练时用于归一化的统计量与推理所用的统计量相差 {noise} 个滑动标准差（各层中位数；最差层：{layer}，{noise_max}），各进程之间的分歧为 {disagreement}（最差层为 {disagreement_max}）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>The ranks disagree by {disagreement} ({disagreement_max} in the worst layer), and the statistics training normalises with are {noise} running-std away from the ones inference uses (median over layers; worst: {layer}, {noise_max})</source>
        <translation>各进程之间的分歧为 {disagreement}（最差层为 {disagreement_max}），训练时用于归一化的统计量与推理所用的统计量相差 {noise} 个滑动标准差（各层中位数；最差层：{layer}，{noise_max}）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source> The loss oscillates (index {index}).</source>
        <translation>损失在振荡（指数 {index}）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> Fix: SyncBN, which normalises over all {total|image|images}.</source>
        <translation>解决方法：使用 SyncBN，在全部 {total} 张图像上归一化。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source> Fix: GroupNorm, which does not depend on the batch, or a larger batch.</source>
        <translation>解决方法：使用不依赖批次的 GroupNorm，或增大批次。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source> Validation is at mAP50 {map50} after epoch {epoch}.</source>
        <translation>第 {epoch} 轮后验证 mAP50 为 {map50}。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> Validation jumps: mAP50 fell from {before} to {after} at epoch {epoch}.</source>
        <translation>验证结果跳变：第 {epoch} 轮 mAP50 从 {before} 降至 {after}。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The ranks normalise apart in some layers: {disagreement_max} global-std in the worst layer ({disagreement} at the median), with {per_rank|image|images} per rank. The statistics are {noise} running-std from the running ones.{validation} SyncBN would make every rank normalise over all {total|image|images}.</source>
        <translation>部分层中各进程的归一化彼此偏离：最差层为 {disagreement_max} 个全局标准差（中位数为 {disagreement}），每个进程 {per_rank} 张图像。统计量与滑动统计量相差 {noise} 个滑动标准差。{validation}使用 SyncBN 可让每个进程都在全部 {total} 张图像上归一化。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Even synchronized over all {total|image|images}, the statistics training normalises with are {noise} running-std away from the ones inference uses (worst: {layer}).{validation} Fix: GroupNorm, or PreciseBN to recompute the running statistics at the end.</source>
        <translation>即使在全部 {total} 张图像上同步，训练时用于归一化的统计量仍与推理所用的统计量相差 {noise} 个滑动标准差（最差层：{layer}）。{validation}解决方法：使用 GroupNorm，或在结束时用 PreciseBN 重新计算滑动统计量。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The loss oscillates (index {index}, threshold {threshold}), but BatchNorm is not the cause: {cause}. Likely the learning rate (lr0 {lr0}) or the data; try a lower lr0 or a longer warmup.{few}</source>
        <translation>损失在振荡（指数 {index}，阈值 {threshold}），但原因不在 BatchNorm：{cause}。可能是学习率（lr0 {lr0}）或数据的问题；请尝试更小的 lr0 或更长的预热。{few}</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>the statistics training normalises with are within {noise} running-std of the running ones</source>
        <translation>训练时用于归一化的统计量与滑动统计量相差不超过 {noise} 个滑动标准差</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>the statistics training normalises with are within {noise} running-std of the running ones and the ranks agree to {disagreement}</source>
        <translation>训练时用于归一化的统计量与滑动统计量相差不超过 {noise} 个滑动标准差，且各进程之间的分歧仅为 {disagreement}</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>this run&apos;s norm ({norm}) uses no batch statistics</source>
        <translation>此次运行的归一化方式（{norm}）不使用批统计量</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no BatchNorm statistics were recorded</source>
        <translation>没有记录到 BatchNorm 统计量</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> With only {images|image|images} per step, each step&apos;s loss also varies with its images; a larger batch (or nbs accumulation) steadies it.</source>
        <translation>每步只有 {images} 张图像，每一步的损失也会随所含图像而变化；更大的批次（或 nbs 梯度累积）能使其平稳。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Validation jumps: mAP50 fell from {before} to {after} at epoch {epoch}.</source>
        <translation>验证结果跳变：第 {epoch} 轮 mAP50 从 {before} 降至 {after}。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Configuration advice [{rule}]{advice}</source>
        <translation>配置建议 [{rule}]{advice}</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>: {text}</source>
        <translation>：{text}</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Not enough data yet for a verdict.</source>
        <translation>数据尚不足以给出结论。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Healthy: BatchNorm normalises over {batch}{statistics}{steady}.{validation}</source>
        <translation>正常：BatchNorm 在{batch}上归一化{statistics}{steady}。{validation}</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>all {images|image|images} (SyncBN)</source>
        <translation>全部 {images} 张图像（SyncBN）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>{images|image|images} per rank</source>
        <translation>每个进程 {images} 张图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>{images|image|images}</source>
        <translation>{images} 张图像</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>, {noise} running-std from the running statistics</source>
        <translation>，与滑动统计量相差 {noise} 个滑动标准差</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>, {noise} running-std from the running statistics, and the ranks agree to {disagreement}</source>
        <translation>，与滑动统计量相差 {noise} 个滑动标准差，且各进程之间的分歧仅为 {disagreement}</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>; the loss is steady (index {index})</source>
        <translation>；损失平稳（指数 {index}）</translation>
    </message>
</context>
<context>
    <name>FieldText</name>
    <message>
        <location filename="../stores/field_text.cpp" line="+27"/>
        <source>Dataset</source>
        <translation>数据集</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>An Ultralytics data.yaml, or &apos;demo&apos; for the built-in synthetic dataset.</source>
        <translation>Ultralytics 格式的 data.yaml，或填写 “demo” 以使用内置的合成数据集。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>demo, or path/to/data.yaml</source>
        <translation>demo，或 path/to/data.yaml</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dataset YAML (*.yaml *.yml);;All files (*)</source>
        <translation>数据集 YAML (*.yaml *.yml);;所有文件 (*)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Image size</source>
        <translation>图像尺寸</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Training and validation image size in pixels; a multiple of 32, the detector&apos;s largest stride.</source>
        <translation>训练和验证时的图像尺寸（像素）；须为 32（检测器的最大步幅）的倍数。</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+7"/>
        <source> px</source>
        <translation> 像素</translation>
    </message>
    <message>
        <location line="-6"/>
        <source>Image pixel limit</source>
        <translation>图像像素上限</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images with more pixels than this are reported when the dataset is verified; above twice this they are refused without being decoded, as Pillow refuses decompression bombs (default 89478485, Pillow&apos;s). 0 turns the limit off.</source>
        <translation>校验数据集时，像素数超过此值的图像会被报告；超过两倍的图像不经解码即被拒绝，与 Pillow 拒绝解压炸弹的规则相同（默认 89478485，即 Pillow 的默认值）。0 表示不设上限。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Image cache</source>
        <translation>图像缓存</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>RAM each rank may use to keep decoded, resized images, so that an image is decoded once instead of on every use (a mosaic uses four). At most a quarter of the free memory is used, shared by the ranks. 0 decodes every time.</source>
        <translation>每个进程可用于保存已解码、已缩放图像的内存，使每张图像只解码一次，而不是每次使用都解码（马赛克一次用四张）。最多使用空闲内存的四分之一，由各进程分摊。0 表示每次都解码。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source> MiB</source>
        <translation> MiB</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>A scale (n, s, m, l, x), a built-in yolov8n.yaml to yolov8x.yaml, the path of a model YAML, or starting weights to fine-tune: an Ultralytics checkpoint (yolov8n.pt) or a run&apos;s best.pt.</source>
        <translation>规模（n、s、m、l、x），内置的 yolov8n.yaml 到 yolov8x.yaml，模型 YAML 的路径，或用于微调的起始权重：Ultralytics 检查点（yolov8n.pt）或某次运行的 best.pt。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>yolov8n.yaml, path/to/model.yaml or yolov8n.pt</source>
        <translation>yolov8n.yaml、path/to/model.yaml 或 yolov8n.pt</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Models and weights (*.yaml *.yml *.pt *.pth);;Model YAML (*.yaml *.yml);;Weights (*.pt *.pth);;All files (*)</source>
        <translation>模型和权重 (*.yaml *.yml *.pt *.pth);;模型 YAML (*.yaml *.yml);;权重 (*.pt *.pth);;所有文件 (*)</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Epochs</source>
        <translation>训练轮数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Passes over the training set.</source>
        <translation>遍历训练集的轮数。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Global batch</source>
        <translation>全局批大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images per iteration over all ranks together; split evenly across the ranks.</source>
        <translation>所有进程合计的每次迭代图像数；平均分配到各进程。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Patience</source>
        <translation>早停耐心值</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Stop after this many epochs without improvement (0 = never stop early).</source>
        <translation>连续这么多轮指标没有提升则停止训练（0 = 从不提前停止）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+8"/>
        <source> epochs</source>
        <translation> 轮</translation>
    </message>
    <message>
        <location line="-7"/>
        <source>Freeze layers</source>
        <translation>冻结层数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fine-tuning: the first N layers keep their pretrained weights and do not train (10 is YOLOv8&apos;s backbone). 0 trains every layer.</source>
        <translation>微调：前 N 层保留预训练权重，不参与训练（10 即 YOLOv8 的主干网络）。0 表示训练所有层。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source> layers</source>
        <translation> 层</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Close mosaic</source>
        <translation>关闭马赛克</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Turn mosaic augmentation off for the last N epochs.</source>
        <translation>在最后 N 轮关闭马赛克增强。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Seed</source>
        <translation>随机种子</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Random seed.</source>
        <translation>随机种子。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Deterministic</source>
        <translation>确定性</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Use deterministic algorithms: reproducible runs, sometimes slower.</source>
        <translation>使用确定性算法：运行结果可复现，但有时更慢。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Loader workers</source>
        <translation>数据加载线程</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Data loader threads per rank.</source>
        <translation>每个进程的数据加载线程数。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mixed precision</source>
        <translation>混合精度</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Automatic mixed precision. CUDA only: on the CPU training runs in float32.</source>
        <translation>自动混合精度。仅限 CUDA：在 CPU 上训练以 float32 运行。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Optimizer</source>
        <translation>优化器</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>auto picks SGD or AdamW from the length of the run, as Ultralytics does.</source>
        <translation>auto 会像 Ultralytics 一样，根据训练长度选择 SGD 或 AdamW。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Initial learning rate</source>
        <translation>初始学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Learning rate after warmup.</source>
        <translation>预热结束后的学习率。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Final learning rate</source>
        <translation>最终学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Final learning rate as a fraction of lr0.</source>
        <translation>最终学习率，以 lr0 的比例表示。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cosine decay</source>
        <translation>余弦衰减</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Decay the learning rate along a cosine instead of a straight line.</source>
        <translation>学习率按余弦曲线而非直线衰减。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Momentum</source>
        <translation>动量</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>SGD momentum, or Adam&apos;s beta1.</source>
        <translation>SGD 的动量，或 Adam 的 beta1。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Weight decay at the nominal batch size.</source>
        <translation>名义批大小下的权重衰减。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Nominal batch</source>
        <translation>名义批大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Gradients accumulate over iterations until about this many images, then the optimizer steps. BatchNorm still sees one iteration&apos;s images.</source>
        <translation>梯度在多次迭代中累积，直到约达到这么多张图像后，优化器才更新一次。BatchNorm 仍只看到单次迭代的图像。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Warmup epochs</source>
        <translation>预热轮数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Warmup length in epochs; fractions are allowed.</source>
        <translation>预热时长（轮）；可以是小数。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Warmup momentum</source>
        <translation>预热动量</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Momentum at the start of warmup.</source>
        <translation>预热开始时的动量。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Warmup bias learning rate</source>
        <translation>预热偏置学习率</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Learning rate of the biases at the start of warmup.</source>
        <translation>预热开始时偏置项的学习率。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Hue jitter</source>
        <translation>色调抖动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Random hue change, as a fraction.</source>
        <translation>随机色调变化幅度（比例）。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Saturation jitter</source>
        <translation>饱和度抖动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Random saturation change, as a fraction.</source>
        <translation>随机饱和度变化幅度（比例）。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Brightness jitter</source>
        <translation>亮度抖动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Random value (brightness) change, as a fraction.</source>
        <translation>随机明度（亮度）变化幅度（比例）。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Rotation</source>
        <translation>旋转</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Random rotation, plus or minus this many degrees.</source>
        <translation>随机旋转，范围为正负这么多度。</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+8"/>
        <source>°</source>
        <translation>°</translation>
    </message>
    <message>
        <location line="-7"/>
        <source>Translation</source>
        <translation>平移</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Random shift, plus or minus this fraction of the image size.</source>
        <translation>随机平移，范围为正负图像尺寸的这一比例。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Scale</source>
        <translation>缩放</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Random scale gain, plus or minus this fraction.</source>
        <translation>随机缩放增益，范围为正负这一比例。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Shear</source>
        <translation>剪切</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Random shear, plus or minus this many degrees.</source>
        <translation>随机剪切，范围为正负这么多度。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Horizontal flip</source>
        <translation>水平翻转</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Probability of flipping an image left to right.</source>
        <translation>图像左右翻转的概率。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Mosaic</source>
        <translation>马赛克</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Probability of combining four images into a mosaic.</source>
        <translation>将四张图像拼接为马赛克的概率。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Augment</source>
        <translation>数据增强</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Augment training images. Off: images are only letterboxed, which makes runs comparable image for image.</source>
        <translation>对训练图像进行数据增强。关闭时：图像只做 letterbox 缩放填充，使各次运行可以逐张图像对比。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Project directory</source>
        <translation>项目目录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Directory that holds the runs; a run is written to project/name.</source>
        <translation>存放各次运行的目录；每次运行写入 project/name。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Run name</source>
        <translation>运行名称</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Name of this run&apos;s directory inside the project directory.</source>
        <translation>本次运行在项目目录中的目录名。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reuse run directory</source>
        <translation>复用运行目录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Write into an existing run directory instead of numbering a new one.</source>
        <translation>写入已有的运行目录，而不是新建一个带编号的目录。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Checkpoint interval</source>
        <translation>检查点间隔</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Iterations between checkpoints (0 = only at the end of each epoch).</source>
        <translation>两次检查点之间的迭代次数（0 = 仅在每轮结束时保存）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source> iterations</source>
        <translation> 次迭代</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Resume</source>
        <translation>继续训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Continue the run in project/name from its last checkpoint, exactly where it stopped.</source>
        <translation>从 project/name 中该运行的最后一个检查点继续训练，从停止处精确接续。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>TensorBoard logs</source>
        <translation>TensorBoard 日志</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Write the losses, learning rate, speed, per-rank timings, validation and BatchNorm figures as TensorBoard event files in the run directory&apos;s tb/ folder: tensorboard --logdir runs/train.</source>
        <translation>将损失、学习率、速度、各进程耗时、验证结果和 BatchNorm 指标写为 TensorBoard 事件文件，放在运行目录的 tb/ 文件夹中：tensorboard --logdir runs/train。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Half-precision best.pt</source>
        <translation>半精度 best.pt</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Store best.pt&apos;s weights in float16, as Ultralytics does: half the file, and float16 rounding in validation, prediction and export. last.pt always keeps float32.</source>
        <translation>以 float16 保存 best.pt 的权重（与 Ultralytics 相同）：文件减半，验证、预测和导出会带有 float16 舍入。last.pt 始终保留 float32。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Empty: every CUDA device, or the CPU when there is none. &apos;cpu&apos;: the CPU. Otherwise CUDA device ids such as 0,1.</source>
        <translation>留空：使用所有 CUDA 设备，没有时使用 CPU。“cpu”：使用 CPU。其他：CUDA 设备 ID，如 0,1。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>auto (every CUDA device, else the CPU)</source>
        <translation>自动（所有 CUDA 设备，否则使用 CPU）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>CPU ranks</source>
        <translation>CPU 进程数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Processes per node when training on the CPU.</source>
        <translation>在 CPU 上训练时每个节点的进程数。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Threads per CPU rank</source>
        <translation>每个 CPU 进程的线程数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Compute threads of each CPU rank. 0 (auto) shares out the cores that other programs left free when the run started: a core busy with another job is left to it, because a thread that shares it holds up every other thread. Set a number to reproduce a run exactly: results depend on the thread count.</source>
        <translation>每个 CPU 进程的计算线程数。0（自动）在运行开始时，把其他程序留下的空闲核心平均分配：被其他任务占用的核心留给它，因为与之共享核心的线程会拖慢其他所有线程。要精确复现一次运行，请设定一个数值：结果取决于线程数。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Backend</source>
        <translation>后端</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Collective communication backend; auto uses NCCL on CUDA and Gloo on the CPU.</source>
        <translation>集合通信后端；auto 在 CUDA 上使用 NCCL，在 CPU 上使用 Gloo。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Normalization</source>
        <translation>归一化</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>bn: BatchNorm statistics per rank. syncbn: statistics over all ranks. groupnorm: independent of the batch. frozen: running statistics only, never updated.</source>
        <translation>bn：每个进程单独计算 BatchNorm 统计量。syncbn：在所有进程上统一计算统计量。groupnorm：与批次无关。frozen：只使用滑动统计量，从不更新。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>PreciseBN batches</source>
        <translation>PreciseBN 批次数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Batches used to recompute BatchNorm statistics before validation (0 = off).</source>
        <translation>验证前用于重新计算 BatchNorm 统计量的批次数（0 = 关闭）。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Nodes</source>
        <translation>节点数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Number of machines taking part in the run.</source>
        <translation>参与本次运行的机器数量。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Node rank</source>
        <translation>节点序号</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This machine&apos;s index among the nodes, from 0.</source>
        <translation>本机在各节点中的序号，从 0 开始。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Master address</source>
        <translation>主节点地址</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Network address of node 0, where the ranks meet.</source>
        <translation>节点 0 的网络地址，各进程在此汇合。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Master port</source>
        <translation>主节点端口</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>TCP port on node 0 for the rendezvous.</source>
        <translation>节点 0 上用于进程汇合（rendezvous）的 TCP 端口。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Collective timeout</source>
        <translation>集合通信超时</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Seconds a collective may wait before the run fails.</source>
        <translation>集合通信操作在运行失败前可等待的秒数。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source> s</source>
        <translation> 秒</translation>
    </message>
</context>
<context>
    <name>LivePlot</name>
    <message>
        <location filename="../widgets/monitor/live_plot.cpp" line="+16"/>
        <source>Iteration</source>
        <translation>迭代</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Time since start (s)</source>
        <translation>自开始起的时间（秒）</translation>
    </message>
</context>
<context>
    <name>Log</name>
    <message>
        <location filename="../stores/log_model.cpp" line="+31"/>
        <source>launcher</source>
        <translation>启动器</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>engine</source>
        <translation>引擎</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>studio</source>
        <translation>Studio</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>rank %1</source>
        <translation>进程 %1</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>debug</source>
        <translation>调试</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>info</source>
        <translation>信息</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>error</source>
        <translation>错误</translation>
    </message>
</context>
<context>
    <name>ModelPanel</name>
    <message>
        <location filename="../widgets/model/model_panel.cpp" line="+34"/>
        <source>YOLOv8n: 3.2 M parameters, 8.7 GFLOPs</source>
        <translation>YOLOv8n：3.2 M 参数，8.7 GFLOPs</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>YOLOv8s: 11.2 M parameters, 28.6 GFLOPs</source>
        <translation>YOLOv8s：11.2 M 参数，28.6 GFLOPs</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>YOLOv8m: 25.9 M parameters, 78.9 GFLOPs</source>
        <translation>YOLOv8m：25.9 M 参数，78.9 GFLOPs</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>YOLOv8l: 43.7 M parameters, 165.2 GFLOPs</source>
        <translation>YOLOv8l：43.7 M 参数，165.2 GFLOPs</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>YOLOv8x: 68.2 M parameters, 257.8 GFLOPs</source>
        <translation>YOLOv8x：68.2 M 参数，257.8 GFLOPs</translation>
    </message>
</context>
<context>
    <name>RunRecord</name>
    <message>
        <location filename="../stores/run_record.cpp" line="+130"/>
        <source>Cannot open %1.</source>
        <translation>无法打开 %1。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1:1: no header</source>
        <translation>%1:1：缺少表头</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>%1:1: no &apos;epoch&apos; column</source>
        <translation>%1:1：缺少 epoch 列</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>%1:%2: the epoch is not a whole number &gt;= 1</source>
        <translation>%1:%2：epoch 值不是 &gt;= 1 的整数</translation>
    </message>
</context>
<context>
    <name>RunStore</name>
    <message>
        <location filename="../stores/run_store.cpp" line="+51"/>
        <source>total</source>
        <translation>总计</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>data</source>
        <translation>数据</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>compute</source>
        <translation>计算</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>comm</source>
        <translation>通信</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>No run</source>
        <translation>无运行</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Starting</source>
        <translation>正在启动</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stopping...</source>
        <translation>正在停止...</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Incomplete record</source>
        <translation>记录不完整</translation>
    </message>
</context>
<context>
    <name>Severity</name>
    <message>
        <location filename="../stores/severity_text.cpp" line="+13"/>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Info</source>
        <translation>信息</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>line %1: %2</source>
        <translation>第 %1 行：%2</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <location filename="../app/main.cpp" line="+52"/>
        <source>A configuration file to open.</source>
        <translation>要打开的配置文件。</translation>
    </message>
</context>
<context>
    <name>studio</name>
    <message>
        <location filename="../app/support_info.cpp" line="+21"/>
        <source>no CUDA device (CPU ranks, Gloo)</source>
        <translation>无 CUDA 设备（CPU 进程，Gloo）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>CUDA: %1%2</source>
        <translation>CUDA：%1%2</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>unknown (the engine has not answered)</source>
        <translation>未知（引擎尚未应答）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&lt;h3&gt;SyncBN Studio %1&lt;/h3&gt;&lt;p&gt;Configure and monitor multi-GPU YOLO training with synchronized BatchNorm.&lt;/p&gt;&lt;table&gt;&lt;tr&gt;&lt;td&gt;Engine:&lt;/td&gt;&lt;td&gt;%2&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;LibTorch:&lt;/td&gt;&lt;td&gt;%3&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;Accelerator:&lt;/td&gt;&lt;td&gt;%4&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;Qt:&lt;/td&gt;&lt;td&gt;built with %5, running on %6&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;System:&lt;/td&gt;&lt;td&gt;%7&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;</source>
        <translation>&lt;h3&gt;SyncBN Studio %1&lt;/h3&gt;&lt;p&gt;配置并监控使用同步批归一化的多 GPU YOLO 训练。&lt;/p&gt;&lt;table&gt;&lt;tr&gt;&lt;td&gt;引擎：&lt;/td&gt;&lt;td&gt;%2&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;LibTorch：&lt;/td&gt;&lt;td&gt;%3&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;加速器：&lt;/td&gt;&lt;td&gt;%4&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;Qt：&lt;/td&gt;&lt;td&gt;编译于 %5，运行于 %6&lt;/td&gt;&lt;/tr&gt;&lt;tr&gt;&lt;td&gt;系统：&lt;/td&gt;&lt;td&gt;%7&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>not found (File &gt; Preferences)</source>
        <translation>未找到（文件 &gt; 首选项）</translation>
    </message>
</context>
<context>
    <name>studio::BnHeatmap</name>
    <message>
        <location filename="../widgets/bn/bn_view.cpp" line="+50"/>
        <source>Layer (model order)</source>
        <translation>层（按模型顺序）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No BatchNorm statistics yet</source>
        <translation>尚无 BatchNorm 统计量</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Rank</source>
        <translation>进程</translation>
    </message>
    <message>
        <location line="+61"/>
        <source>%1, rank %2
%3: %4</source>
        <translation>%1，进程 %2
%3：%4</translation>
    </message>
</context>
<context>
    <name>studio::BnLayersModel</name>
    <message>
        <location filename="../stores/bn_layers_model.cpp" line="+64"/>
        <source>How far the statistics this step normalised with are from the running statistics inference uses, in running standard deviations</source>
        <translation>本步归一化所用的统计量与推理所用的滑动统计量之间的偏离程度，以滑动标准差为单位</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>How far apart the statistics the ranks normalised with are, in global standard deviations: 0 under SyncBN</source>
        <translation>各进程归一化所用统计量之间的差距，以全局标准差为单位：使用 SyncBN 时为 0</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The spread of the ranks&apos; local batch means (they differ whenever the ranks see different images, under BN and SyncBN alike)</source>
        <translation>各进程本地批均值的离散程度（只要各进程看到的图像不同，它们就会不同，BN 和 SyncBN 下都是如此）</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Layer</source>
        <translation>层</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Noise</source>
        <translation>噪声</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Disagreement</source>
        <translation>分歧</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Batch-mean spread</source>
        <translation>批均值离散度</translation>
    </message>
</context>
<context>
    <name>studio::BnView</name>
    <message>
        <location filename="../widgets/bn/bn_view.cpp" line="+18"/>
        <source>The statistic the heatmap shows, per layer and rank</source>
        <translation>热力图按层和进程显示的统计量</translation>
    </message>
    <message>
        <location line="+24"/>
        <source>Click a layer to follow its statistics per rank; click a header to sort</source>
        <translation>单击某一层可按进程跟踪其统计量；单击表头可排序</translation>
    </message>
    <message>
        <location line="+10"/>
        <location line="+107"/>
        <source>Mean</source>
        <translation>均值</translation>
    </message>
    <message>
        <location line="-106"/>
        <location line="+5"/>
        <source>Choose a layer</source>
        <translation>请选择一层</translation>
    </message>
    <message>
        <location line="-1"/>
        <location line="+103"/>
        <source>Variance</source>
        <translation>方差</translation>
    </message>
    <message>
        <location line="-97"/>
        <source>Std units</source>
        <translation>标准差单位</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>No BatchNorm statistics yet</source>
        <translation>尚无 BatchNorm 统计量</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>noise, median</source>
        <translation>噪声，中位数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>noise, max</source>
        <translation>噪声，最大值</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>disagreement, median</source>
        <translation>分歧，中位数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>disagreement, max</source>
        <translation>分歧，最大值</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Per layer and rank</source>
        <translation>按层和进程</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Layers</source>
        <translation>各层</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Over all layers</source>
        <translation>所有层汇总</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Selected layer: batch statistics per rank (solid) and running statistics (dashed)</source>
        <translation>所选层：各进程的批统计量（实线）和滑动统计量（虚线）</translation>
    </message>
    <message>
        <location line="+57"/>
        <location line="+4"/>
        <source>rank %1</source>
        <translation>进程 %1</translation>
    </message>
    <message>
        <location line="-3"/>
        <location line="+4"/>
        <source>rank %1 running</source>
        <translation>进程 %1 滑动值</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Selected layer %1: batch statistics per rank (solid) and running statistics (dashed)</source>
        <translation>所选层 %1：各进程的批统计量（实线）和滑动统计量（虚线）</translation>
    </message>
</context>
<context>
    <name>studio::ClassChart</name>
    <message>
        <location filename="../widgets/dataset/class_chart.cpp" line="+76"/>
        <source>instances</source>
        <translation>实例数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>images</source>
        <translation>图像数</translation>
    </message>
</context>
<context>
    <name>studio::ClassMetricsModel</name>
    <message>
        <location filename="../stores/monitor_models.cpp" line="+199"/>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Images</source>
        <translation>图像数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Instances</source>
        <translation>实例数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>P</source>
        <translation>P</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>R</source>
        <translation>R</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>mAP50</source>
        <translation>mAP50</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>mAP50-95</source>
        <translation>mAP50-95</translation>
    </message>
</context>
<context>
    <name>studio::CompareView</name>
    <message>
        <location filename="../widgets/runs/compare_view.cpp" line="+47"/>
        <source>Select two or more runs in Runs and choose Compare (Ctrl+Shift+C), or run Train &gt; A/B: BN vs SyncBN.</source>
        <translation>在“运行记录”中选择两个或更多运行，然后选择“对比” (Ctrl+Shift+C)，或使用“训练 &gt; A/B 测试：BN 与 SyncBN”。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Norm</source>
        <translation>归一化</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Ranks x images</source>
        <translation>进程数 x 图像数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Best mAP50-95</source>
        <translation>最佳 mAP50-95</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Oscillation</source>
        <translation>振荡</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Diagnosis</source>
        <translation>诊断</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>Loss (total, smoothed)</source>
        <translation>损失（总计，平滑后）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Oscillation index</source>
        <translation>振荡指数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>index</source>
        <translation>指数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Validation mAP50</source>
        <translation>验证 mAP50</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>mAP50</source>
        <translation>mAP50</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Normaliser noise: median over layers (worst layer dotted)</source>
        <translation>归一化统计量噪声：各层中位数（最差层为点线）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>running std</source>
        <translation>滑动标准差</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Rank disagreement: worst layer (median dotted)</source>
        <translation>进程间分歧：最差层（中位数为点线）</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>global std</source>
        <translation>全局标准差</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>All curves over epochs, so runs with different batches line up. Noise: how far the statistics training normalises with are from the running statistics inference uses. Disagreement: how far apart the ranks&apos; normalisers are (0 under SyncBN).</source>
        <translation>所有曲线均以轮次为横轴，因此批大小不同的运行也能对齐。噪声：训练时归一化所用的统计量与推理所用的滑动统计量之间的偏离程度。分歧：各进程的归一化统计量之间的差距（使用 SyncBN 时为 0）。</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <location line="+54"/>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>%1 x %2</source>
        <translation>%1 x %2</translation>
    </message>
    <message>
        <location line="+3"/>
        <location line="+2"/>
        <source>-</source>
        <translation>-</translation>
    </message>
</context>
<context>
    <name>studio::ConfigDocument</name>
    <message>
        <location filename="../stores/config_document.cpp" line="+50"/>
        <source>Untitled</source>
        <translation>未命名</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>The document has no file name yet; use Save As.</source>
        <translation>文档还没有文件名；请使用“另存为”。</translation>
    </message>
</context>
<context>
    <name>studio::DatasetCheck</name>
    <message>
        <location filename="../stores/dataset_check.cpp" line="+67"/>
        <source>Verification cancelled.</source>
        <translation>验证已取消。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The engine printed no report.</source>
        <translation>引擎未输出报告。</translation>
    </message>
</context>
<context>
    <name>studio::DatasetClassesModel</name>
    <message>
        <location filename="../stores/dataset_models.cpp" line="+229"/>
        <source>Class %1</source>
        <translation>类别 %1</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 images</source>
        <translation>%1 图像数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>%1 instances</source>
        <translation>%1 实例数</translation>
    </message>
</context>
<context>
    <name>studio::DatasetImagesModel</name>
    <message numerus="yes">
        <location line="-152"/>
        <source>
%1 x %2 px, %n box(es)</source>
        <translation>
            <numerusform>
%1 x %2 像素，%n 个框</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>studio::DatasetPanel</name>
    <message>
        <location filename="../widgets/dataset/dataset_panel.cpp" line="+58"/>
        <source>&amp;New data.yaml...</source>
        <translation>新建 data.yaml(&amp;N)...</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Write a data.yaml from folders of train and val images and the class names, and use it</source>
        <translation>根据训练和验证图像文件夹以及类别名称写出 data.yaml，并使用它</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Verify</source>
        <translation>验证(&amp;V)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Decode every image and parse every label file again (F5); unchanged files come from the engine&apos;s cache</source>
        <translation>重新解码每张图像并解析每个标签文件 (F5)；未更改的文件取自引擎的缓存</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Summary</source>
        <translation>摘要</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+247"/>
        <location line="+28"/>
        <source>Problems</source>
        <translation>问题</translation>
    </message>
    <message>
        <location line="-274"/>
        <location line="+49"/>
        <source>Images</source>
        <translation>图像</translation>
    </message>
    <message>
        <location line="+126"/>
        <source>Verifying %1...</source>
        <translation>正在验证 %1...</translation>
    </message>
    <message>
        <location line="-159"/>
        <source>%1: %v/%m</source>
        <translation>%1：%v/%m</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Split</source>
        <translation>划分</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Usable</source>
        <translation>可用</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Backgrounds</source>
        <translation>背景图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Instances</source>
        <translation>实例数</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Duplicates removed</source>
        <translation>已去除重复</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Image files in the split&apos;s folders or lists</source>
        <translation>该划分的文件夹或列表中的图像文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images training will use</source>
        <translation>训练将使用的图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Usable images without a box</source>
        <translation>没有任何框的可用图像</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Images left out: undecodable, too small or with a bad label file (see Problems)</source>
        <translation>被排除的图像：无法解码、尺寸过小或标签文件有误（见“问题”）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Repeated label rows, dropped</source>
        <translation>重复的标签行，已丢弃</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Instances per class</source>
        <translation>每类实例数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images per class</source>
        <translation>每类图像数</translation>
    </message>
    <message>
        <location line="+59"/>
        <source>Show the images of one split</source>
        <translation>显示某一划分的图像</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Show only images with an instance of this class</source>
        <translation>仅显示含有此类别实例的图像</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Backgrounds only</source>
        <translation>仅背景图(&amp;B)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Problems only</source>
        <translation>仅有问题的图像(&amp;P)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Skipped images and images with a warning</source>
        <translation>已跳过的图像和带有警告的图像</translation>
    </message>
    <message>
        <location line="+55"/>
        <source>Not verified yet.</source>
        <translation>尚未验证。</translation>
    </message>
    <message>
        <location line="+67"/>
        <source>%1 (sample of %2)</source>
        <translation>%1（抽样 %2）</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>Problems (%1)</source>
        <translation>问题（%1）</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%n class(es)</source>
        <translation>
            <numerusform>%n 个类别</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>, %1 %2 images</source>
        <translation>，%2 %1 张图像</translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>, %n problem(s)</source>
        <translation>
            <numerusform>，%n 个问题</numerusform>
        </translation>
    </message>
    <message>
        <location line="+0"/>
        <source>, no problems</source>
        <translation>，无问题</translation>
    </message>
    <message>
        <location line="+2"/>
        <source> (as verified %1)</source>
        <translation>（%1 时的验证结果）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source> (verified %1)</source>
        <translation>（验证于 %1）</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>%1 The report shown is the last one.</source>
        <translation>%1 当前显示的是上一次的报告。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>All splits</source>
        <translation>所有划分</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Any class</source>
        <translation>任意类别</translation>
    </message>
    <message numerus="yes">
        <location line="+22"/>
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n 张图像</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>studio::DatasetProblemsModel</name>
    <message>
        <location filename="../stores/dataset_models.cpp" line="+64"/>
        <source>skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>warning</source>
        <translation>警告</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>%1
%2
Double-click to see the image and its label file.</source>
        <translation>%1
%2
双击可查看该图像及其标签文件。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Kind</source>
        <translation>类型</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Split</source>
        <translation>划分</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Line</source>
        <translation>行</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
</context>
<context>
    <name>studio::DeviceList</name>
    <message>
        <location filename="../stores/model_info.cpp" line="+238"/>
        <source>The engine listed no devices.</source>
        <translation>引擎未列出任何设备。</translation>
    </message>
</context>
<context>
    <name>studio::DevicesPanel</name>
    <message>
        <location filename="../widgets/distributed/devices_panel.cpp" line="+33"/>
        <source>This machine</source>
        <translation>本机</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Tick the devices to train on: one rank per GPU</source>
        <translation>勾选用于训练的设备：每个 GPU 一个进程</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Copy &amp;Launch Command...</source>
        <translation>复制启动命令(&amp;L)...</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>This configuration as a torchrun command per node, a Slurm batch script or a Kubernetes PyTorchJob, with the configuration file written beside it</source>
        <translation>将此配置生成为每个节点的 torchrun 命令、Slurm 批处理脚本或 Kubernetes PyTorchJob，并在其旁边写入配置文件</translation>
    </message>
    <message>
        <location line="+33"/>
        <source>Asking the engine which devices this machine has...</source>
        <translation>正在向引擎查询本机有哪些设备...</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The devices are unknown: %1</source>
        <translation>设备未知：%1</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>GPU %1: %2, %3, compute capability %4</source>
        <translation>GPU %1：%2，%3，计算能力 %4</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>CPU: %1, %2 logical cores, %3</source>
        <translation>CPU：%1，%2 个逻辑核心，%3</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>&lt;b&gt;No CUDA device on this machine&lt;/b&gt; (LibTorch %1): training runs on the CPU with Gloo, one process per CPU rank (set CPU ranks below). To train on GPUs, copy the launch command to a GPU machine.</source>
        <translation>&lt;b&gt;本机没有 CUDA 设备&lt;/b&gt;（LibTorch %1）：训练将在 CPU 上使用 Gloo 运行，每个 CPU 进程对应一个系统进程（在下方设置 CPU 进程数）。要在 GPU 上训练，请将启动命令复制到 GPU 机器上运行。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>CPU instead (Gloo, distributed.cpu_ranks ranks)</source>
        <translation>改用 CPU（Gloo，distributed.cpu_ranks 个进程）</translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>%n CUDA device(s), LibTorch %1, NCCL %2.</source>
        <translation>
            <numerusform>%n 个 CUDA 设备，LibTorch %1，NCCL %2。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>available</source>
        <translation>可用</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>not available</source>
        <translation>不可用</translation>
    </message>
    <message>
        <location line="+58"/>
        <source>Memory estimate: the model has an error (Model page).</source>
        <translation>内存估计：模型有错误（见“模型”页）。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Memory estimate: waiting for the model&apos;s size...</source>
        <translation>内存估计：正在等待模型大小...</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Memory estimate: the batch does not divide among the ranks.</source>
        <translation>内存估计：批大小不能在各进程间整除。</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>Memory estimate: %1</source>
        <translation>内存估计：%1</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>GPU %1</source>
        <translation>GPU %1</translation>
    </message>
    <message>
        <location line="+5"/>
        <source> Fits in %1&apos;s %2.</source>
        <translation>可放入 %1 的 %2 内存。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source> &lt;b&gt;More than %1&apos;s %2&lt;/b&gt;: lower the batch or imgsz, or turn on AMP.</source>
        <translation>&lt;b&gt;超出 %1 的 %2 内存&lt;/b&gt;：请降低批大小或 imgsz，或开启 AMP。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>per GPU</source>
        <translation>每 GPU</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>per CPU rank</source>
        <translation>每 CPU 进程</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>, CUDA workspace %1</source>
        <translation>，CUDA 工作区 %1</translation>
    </message>
    <message>
        <location line="+6"/>
        <source> The host&apos;s RAM also keeps up to %1 of decoded images per rank (data.cache_mb).</source>
        <translation>主机内存还会为每个进程保存最多 %1 的已解码图像（data.cache_mb）。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>&lt;b&gt;Memory %1: about %2&lt;/b&gt; for %3 image(s) of %4 px (activations %5; weights, gradients, optimizer and EMA %6%7).%8</source>
        <translation>&lt;b&gt;内存（%1）：约 %2&lt;/b&gt;，用于 %3 张 %4 像素的图像（激活值 %5；权重、梯度、优化器和 EMA %6%7）。%8</translation>
    </message>
</context>
<context>
    <name>studio::DiagnosisPanel</name>
    <message>
        <location filename="../widgets/bn/diagnosis_panel.cpp" line="+54"/>
        <source>Switch to SyncBN and Resume</source>
        <translation>切换到 SyncBN 并继续训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Recalibrate with PreciseBN</source>
        <translation>使用 PreciseBN 重新校准</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Restart with GroupNorm</source>
        <translation>改用 GroupNorm 重新训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Restart with Frozen BN</source>
        <translation>改用 Frozen BN 重新训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Restart with Half the lr0</source>
        <translation>将 lr0 减半后重新训练</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Continue this run from weights/last.pt with BatchNorm synchronized over all ranks</source>
        <translation>从 weights/last.pt 继续训练此运行，并使 BatchNorm 在所有进程间同步</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Recompute a checkpoint&apos;s running statistics over training batches, and validate before and after</source>
        <translation>在训练批次上重新计算检查点的滑动统计量，并在前后分别进行验证</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>A new run with GroupNorm, which does not depend on the batch</source>
        <translation>开始使用 GroupNorm 的新运行，它不依赖于批次</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A new run with BatchNorm frozen at its running statistics, for fine-tuning</source>
        <translation>开始新运行，BatchNorm 固定使用其滑动统计量，适用于微调</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>A new run with the initial learning rate halved</source>
        <translation>开始新运行，初始学习率减半</translation>
    </message>
    <message numerus="yes">
        <location line="+8"/>
        <source>Not enough data yet for a verdict: it needs the first BatchNorm probe or %n step(s).</source>
        <translation>
            <numerusform>数据尚不足以作出判断：需要第一次 BatchNorm 探测或 %n 步。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+3"/>
        <source>No run</source>
        <translation>无运行</translation>
    </message>
</context>
<context>
    <name>studio::DiagnosticsModel</name>
    <message>
        <location filename="../stores/diagnostics_model.cpp" line="+49"/>
        <source>Severity</source>
        <translation>严重性</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Field</source>
        <translation>字段</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Message</source>
        <translation>消息</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Location</source>
        <translation>位置</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>(file)</source>
        <translation>（文件）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%1:%2</source>
        <translation>%1:%2</translation>
    </message>
</context>
<context>
    <name>studio::EngineSession</name>
    <message numerus="yes">
        <location filename="../stores/engine_session.cpp" line="+87"/>
        <source>The configuration has %n error(s); fix them first (see Problems).</source>
        <translation>
            <numerusform>配置中有 %n 个错误；请先修正（见“问题”面板）。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+29"/>
        <source>A run is already in progress.</source>
        <translation>已有运行正在进行。</translation>
    </message>
    <message>
        <location line="-23"/>
        <source>Cannot create %1.</source>
        <translation>无法创建 %1。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Cannot write the configuration for the engine: %1</source>
        <translation>无法为引擎写入配置：%1</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>%1 cannot be resumed: it needs args.yaml and weights/last.pt.</source>
        <translation>无法继续训练 %1：需要 args.yaml 和 weights/last.pt。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>No engine program is set.</source>
        <translation>未设置引擎程序。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Refused a connection to the progress socket: %1</source>
        <translation>已拒绝进度套接字上的一个连接：%1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The engine (version %1) connected.</source>
        <translation>引擎（版本 %1）已连接。</translation>
    </message>
    <message numerus="yes">
        <location line="+5"/>
        <source>the connection ended inside a line (%n byte(s) lost)</source>
        <translation>
            <numerusform>连接在一行的中途断开（丢失 %n 字节）</numerusform>
        </translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Starting %1 %2 (in %3)</source>
        <translation>正在启动 %1 %2（工作目录：%3）</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>Asked the engine to stop after this iteration and save weights/last.pt.</source>
        <translation>已请求引擎在本次迭代后停止并保存 weights/last.pt。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Sent SIGTERM to the engine: stop and save.</source>
        <translation>已向引擎发送 SIGTERM：停止并保存。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The engine is still saving after %1 s; it can be killed now.</source>
        <translation>%1 秒后引擎仍在保存；现在可以强制终止它。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Asked for a checkpoint at the end of this iteration.</source>
        <translation>已请求在本次迭代结束时保存检查点。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Killing the engine (process %1) and its ranks.</source>
        <translation>正在强制终止引擎（PID %1）及其所有进程。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Left the engine running in the background; follow it from Runs.</source>
        <translation>引擎已留在后台继续运行；可在“运行记录”中跟踪。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Could not start %1: %2</source>
        <translation>无法启动 %1：%2</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>was killed by signal %1</source>
        <translation>被信号 %1 终止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>exited with code %1</source>
        <translation>退出，退出码为 %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+7"/>
        <source>The engine %1.</source>
        <translation>引擎%1。</translation>
    </message>
    <message>
        <location line="-4"/>
        <source>The engine %1 before the run finished. Everything received so far is kept.</source>
        <translation>引擎在运行结束前%1。已收到的所有数据均会保留。</translation>
    </message>
</context>
<context>
    <name>studio::EngineTask</name>
    <message>
        <location filename="../stores/engine_task.cpp" line="+25"/>
        <source>The engine is already busy with another task.</source>
        <translation>引擎正忙于另一项任务。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Could not start %1: %2</source>
        <translation>无法启动 %1：%2</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The engine was killed by signal %1.</source>
        <translation>引擎被信号 %1 终止。</translation>
    </message>
</context>
<context>
    <name>studio::EventFileReader</name>
    <message>
        <location filename="../stores/event_file_reader.cpp" line="+30"/>
        <source>Cannot open %1: %2</source>
        <translation>无法打开 %1：%2</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>%1 is not a regular file.</source>
        <translation>%1 不是普通文件。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>%1 became shorter while being read; stopped following it.</source>
        <translation>%1 在读取过程中变短；已停止跟踪。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Cannot read %1: %2</source>
        <translation>无法读取 %1：%2</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>%1:%2: longer than %3 bytes; skipped</source>
        <translation>%1:%2：超过 %3 字节；已跳过</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>%1:%2: %3</source>
        <translation>%1:%2：%3</translation>
    </message>
    <message numerus="yes">
        <location line="+39"/>
        <source>%1:%2: the last line is incomplete (%n byte(s)); ignored</source>
        <translation>
            <numerusform>%1:%2：最后一行不完整（%n 字节）；已忽略</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>studio::ExportDialog</name>
    <message>
        <location filename="../widgets/deploy/export_dialog.cpp" line="+37"/>
        <source>Export Weights</source>
        <translation>导出权重</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Writes the checkpoint&apos;s EMA weights, BatchNorm folded into the convolutions, as a file deployment runtimes load, then runs it in its own runtime on a validation image and compares it with the engine.</source>
        <translation>将检查点的 EMA 权重（BatchNorm 已折叠进卷积）写成部署运行时可加载的文件，然后在该文件自己的运行时中对一张验证图像运行，并与引擎的结果比较。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>best.pt: the epoch with the best validation fitness; last.pt: the latest</source>
        <translation>best.pt：验证适应度最好的轮次；last.pt：最新的</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>ONNX (OpenCV DNN, ONNX Runtime, TensorRT)</source>
        <translation>ONNX（OpenCV DNN、ONNX Runtime、TensorRT）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>TorchScript (LibTorch, PyTorch)</source>
        <translation>TorchScript（LibTorch、PyTorch）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>as trained</source>
        <translation>与训练时相同</translation>
    </message>
    <message>
        <location line="+1"/>
        <source> px</source>
        <translation> 像素</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Input height and width, a multiple of the stride (32); 0: the size the run trained at</source>
        <translation>输入的高和宽，须为步幅（32）的倍数；0：训练时的尺寸</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Dynamic batch and image size</source>
        <translation>动态批大小和图像尺寸</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>ONNX only (TorchScript always is). OpenCV 4.6 DNN cannot run dynamic graphs</source>
        <translation>仅 ONNX（TorchScript 始终是动态的）。OpenCV 4.6 DNN 无法运行动态图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Float16 weights (half the file)</source>
        <translation>Float16 权重（文件减半）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Weights stored as float16; the CPU still computes in float32</source>
        <translation>权重以 float16 存储；CPU 上仍以 float32 计算</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>12 suits OpenCV 4.6 DNN, the loader Debian ships; up to 17 for newer runtimes</source>
        <translation>12 适合 Debian 自带的 OpenCV 4.6 DNN；较新的运行时最高可用 17</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Browse...</source>
        <translation>浏览...</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Weights:</source>
        <translation>权重(&amp;W)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Format:</source>
        <translation>格式(&amp;F)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Image size:</source>
        <translation>图像尺寸(&amp;I)：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>ONNX &amp;opset:</source>
        <translation>ONNX 算子集(&amp;O)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Save as:</source>
        <translation>另存为(&amp;S)：</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>&amp;Export</source>
        <translation>导出(&amp;E)</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Show in &amp;Folder</source>
        <translation>在文件夹中显示(&amp;F)</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Export As</source>
        <translation>导出为</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>ONNX models (*.onnx)</source>
        <translation>ONNX 模型 (*.onnx)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>TorchScript archives (*.torchscript *.pt)</source>
        <translation>TorchScript 存档 (*.torchscript *.pt)</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>%1 has no weights/best.pt or last.pt yet.</source>
        <translation>%1 还没有 weights/best.pt 或 last.pt。</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>The image size must be a multiple of 32 (or &quot;as trained&quot;).</source>
        <translation>图像尺寸必须是 32 的倍数（或“与训练时相同”）。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Exporting %1...</source>
        <translation>正在导出 %1...</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>exit code %1</source>
        <translation>退出码 %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Export failed: %1</source>
        <translation>导出失败：%1</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Exported %1 (%2). The check passed.</source>
        <translation>已导出 %1（%2）。检查通过。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Exported %1 (%2). Not checked here (see below).</source>
        <translation>已导出 %1（%2）。此处未检查（见下文）。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Exported %1 (%2), but the check FAILED: see the report.</source>
        <translation>已导出 %1（%2），但检查失败：请查看报告。</translation>
    </message>
</context>
<context>
    <name>studio::FieldEditor</name>
    <message>
        <location filename="../widgets/config/field_editor.cpp" line="+170"/>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a directory</source>
        <translation>选择目录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Choose a file</source>
        <translation>选择文件</translation>
    </message>
    <message>
        <location line="+12"/>
        <location line="+2"/>
        <source>Choose %1</source>
        <translation>选择%1</translation>
    </message>
</context>
<context>
    <name>studio::FileController</name>
    <message>
        <location filename="../app/file_controller.cpp" line="+42"/>
        <source>Save Failed</source>
        <translation>保存失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The configuration was not saved. Your changes are kept; save them somewhere else.</source>
        <translation>配置未保存。您的修改仍然保留，请将其保存到其他位置。</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Saved %1</source>
        <translation>已保存 %1</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>New configuration with default values</source>
        <translation>已新建默认配置</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Cannot Open Configuration</source>
        <translation>无法打开配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 could not be opened as a configuration.</source>
        <translation>无法将 %1 作为配置打开。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Open Configuration</source>
        <translation>打开配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+6"/>
        <source>Configuration YAML (*.yaml *.yml);;All files (*)</source>
        <translation>配置 YAML (*.yaml *.yml);;所有文件 (*)</translation>
    </message>
    <message>
        <location line="-1"/>
        <source>Save Configuration As</source>
        <translation>配置另存为</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Unsaved Changes</source>
        <translation>未保存的修改</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 has unsaved changes.</source>
        <translation>%1 有未保存的修改。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Do you want to save them first?</source>
        <translation>是否先保存？</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Opened %1</source>
        <translation>已打开 %1</translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>Opened %1 with %n problem(s); see Problems</source>
        <translation>
            <numerusform>已打开 %1，有 %n 个问题；请查看“问题”面板</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>studio::ImageGrid</name>
    <message>
        <location filename="../widgets/dataset/image_grid.cpp" line="+92"/>
        <source>Dataset images</source>
        <translation>数据集图像</translation>
    </message>
</context>
<context>
    <name>studio::ImagePreview</name>
    <message>
        <location filename="../widgets/dataset/image_preview.cpp" line="+82"/>
        <source>Label file</source>
        <translation>标签文件</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>The label file as it is on disk now: class x_center y_center width height per line, normalised to the image</source>
        <translation>磁盘上当前的标签文件：每行为 class x_center y_center width height，已按图像尺寸归一化</translation>
    </message>
    <message>
        <location line="+29"/>
        <source>No label file (%1): the image is a background.</source>
        <translation>没有标签文件（%1）：该图像为背景图。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Label file %1</source>
        <translation>标签文件 %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Cannot read it: %1</source>
        <translation>无法读取：%1</translation>
    </message>
</context>
<context>
    <name>studio::ImageView</name>
    <message>
        <location line="-62"/>
        <source>Double-click a problem or an image to see it here.</source>
        <translation>双击某个问题或图像，即可在此查看。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Cannot show this image: %1</source>
        <translation>无法显示此图像：%1</translation>
    </message>
</context>
<context>
    <name>studio::LaunchDialog</name>
    <message>
        <location filename="../widgets/distributed/launch_dialog.cpp" line="+49"/>
        <source>Launch Elsewhere</source>
        <translation>在其他机器上启动</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Machines taking part (distributed.nnodes)</source>
        <translation>参与的机器数（distributed.nnodes）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>CPU ranks per node (distributed.cpu_ranks)</source>
        <translation>每个节点的 CPU 进程数（distributed.cpu_ranks）</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>GPUs per node: one rank each. Every node needs this many visible GPUs.</source>
        <translation>每个节点的 GPU 数：每个 GPU 一个进程。每个节点都需要有这么多可见的 GPU。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Node 0&apos;s address, reachable from every node (distributed.master_addr)</source>
        <translation>节点 0 的地址，须能从每个节点访问（distributed.master_addr）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>The engine on the nodes: a name on their PATH or an absolute path</source>
        <translation>节点上的引擎：其 PATH 中的名称或绝对路径</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The container image with syncbn-engine, for Kubernetes</source>
        <translation>包含 syncbn-engine 的容器镜像，用于 Kubernetes</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Where the configuration and the script are written; a folder the nodes share is simplest</source>
        <translation>配置和脚本的写入位置；使用各节点共享的文件夹最简单</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Browse...</source>
        <translation>浏览...</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>(the written file&apos;s path)</source>
        <translation>（写入文件的路径）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>The configuration&apos;s path as the nodes see it, when the folder is mounted elsewhere there</source>
        <translation>当该文件夹在节点上挂载于其他位置时，节点上看到的配置文件路径</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Nodes:</source>
        <translation>节点数(&amp;N)：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>CPU &amp;ranks per node:</source>
        <translation>每节点 CPU 进程数(&amp;R)：</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>&amp;GPUs per node:</source>
        <translation>每节点 GPU 数(&amp;G)：</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Master address:</source>
        <translation>主节点地址(&amp;M)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Master &amp;port:</source>
        <translation>主节点端口(&amp;P)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Engine on the nodes:</source>
        <translation>节点上的引擎(&amp;E)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Container &amp;image:</source>
        <translation>容器镜像(&amp;I)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Write to &amp;folder:</source>
        <translation>写入文件夹(&amp;F)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Configuration &amp;on the nodes:</source>
        <translation>节点上的配置(&amp;O)：</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>torchrun</source>
        <translation>torchrun</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Slurm</source>
        <translation>Slurm</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Kubernetes (Kubeflow)</source>
        <translation>Kubernetes (Kubeflow)</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>&amp;Write Files and Copy</source>
        <translation>写入文件并复制(&amp;W)</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Write the configuration and this tab&apos;s file into the folder, and copy the command to the clipboard</source>
        <translation>将配置和此标签页的文件写入文件夹，并将命令复制到剪贴板</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Write Launch Files To</source>
        <translation>启动文件写入位置</translation>
    </message>
    <message>
        <location line="+51"/>
        <source>World size %1: %2 node(s) x %3 rank(s).</source>
        <translation>进程总数 %1：%2 个节点 x %3 个进程。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Cannot generate: %1</source>
        <translation>无法生成：%1</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Cannot create %1.</source>
        <translation>无法创建 %1。</translation>
    </message>
    <message>
        <location line="+26"/>
        <source>Wrote %1 and %2; copied: %3</source>
        <translation>已写入 %1 和 %2；已复制：%3</translation>
    </message>
</context>
<context>
    <name>studio::LivePlot</name>
    <message>
        <location filename="../widgets/monitor/live_plot.cpp" line="+115"/>
        <source>Waiting for the first step</source>
        <translation>等待第一步</translation>
    </message>
</context>
<context>
    <name>studio::LogModel</name>
    <message>
        <location filename="../stores/log_model.cpp" line="+20"/>
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Message</source>
        <translation>消息</translation>
    </message>
</context>
<context>
    <name>studio::LogView</name>
    <message>
        <location filename="../widgets/monitor/log_view.cpp" line="+74"/>
        <source>Show the lines of one rank, the launcher or the studio</source>
        <translation>显示某个进程、启动器或 Studio 的日志行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All sources</source>
        <translation>所有来源</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Show only lines at or above this level</source>
        <translation>仅显示不低于此级别的日志行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>All levels</source>
        <translation>所有级别</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Warnings and errors</source>
        <translation>警告和错误</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Errors</source>
        <translation>错误</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Search the log (Ctrl+F)</source>
        <translation>搜索日志 (Ctrl+F)</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+27"/>
        <source>Copy All</source>
        <translation>全部复制</translation>
    </message>
    <message>
        <location line="-26"/>
        <source>Copy every line shown to the clipboard</source>
        <translation>将显示的所有行复制到剪贴板</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
</context>
<context>
    <name>studio::LossPlot</name>
    <message>
        <location filename="../widgets/monitor/series_plot.cpp" line="+159"/>
        <source>Loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>rank %1 total</source>
        <translation>进程 %1 总计</translation>
    </message>
</context>
<context>
    <name>studio::MainWindow</name>
    <message>
        <location filename="../app/main_window.cpp" line="+353"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location line="+13"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location line="+37"/>
        <source>Pages</source>
        <translation>页面</translation>
    </message>
    <message>
        <location line="+125"/>
        <source>Problems</source>
        <translation>问题</translation>
    </message>
    <message>
        <location line="-407"/>
        <source>Configure</source>
        <translation>配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Train</source>
        <translation>训练</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Runs</source>
        <translation>运行记录</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <location line="+208"/>
        <source>&amp;Run</source>
        <translation>运行(&amp;R)</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>E&amp;xport</source>
        <translation>导出(&amp;X)</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Main</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <location line="+71"/>
        <source>Wrote %1 and set it as the dataset.</source>
        <translation>已写入 %1 并将其设为数据集。</translation>
    </message>
    <message>
        <location line="+30"/>
        <source>Run:</source>
        <translation>运行：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>The open runs: the one training now and those opened from disk</source>
        <translation>已打开的运行：正在训练的运行，以及从磁盘打开的运行</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>%1 (training)</source>
        <translation>%1（训练中）</translation>
    </message>
    <message>
        <location line="-358"/>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
    <message>
        <location line="+200"/>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <location line="+192"/>
        <source>The engine is still saving; Run &gt; Kill ends it at once.</source>
        <translation>引擎仍在保存；“运行 &gt; 强制终止”可立即结束它。</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Engine Not Found</source>
        <translation>未找到引擎</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Preferences...</source>
        <translation>首选项...</translation>
    </message>
    <message>
        <location line="+12"/>
        <location line="+19"/>
        <source>Cannot Start Training</source>
        <translation>无法开始训练</translation>
    </message>
    <message>
        <location line="-18"/>
        <source>The configuration has errors. They are listed in Problems; double-click one to go to its field.</source>
        <translation>配置中有错误。错误已列在“问题”面板中；双击某项即可跳转到对应字段。</translation>
    </message>
    <message>
        <location line="+25"/>
        <source>Training started</source>
        <translation>训练已开始</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Cannot Resume</source>
        <translation>无法继续训练</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Cannot Open Run</source>
        <translation>无法打开运行</translation>
    </message>
    <message>
        <location line="+66"/>
        <source>Continue %1 with SyncBN?</source>
        <translation>使用 SyncBN 继续训练 %1？</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>What changes: distributed.norm bn -&gt; syncbn. Each BatchNorm layer then normalises over all %1 images of a step instead of %2 per rank.

What carries over from weights/last.pt: the weights and their EMA, the running statistics, the optimizer state, the epoch, iteration and learning-rate schedule, the random state and any gradients accumulated towards the next optimizer step. The run continues in the same directory; its args.yaml records the change.%3</source>
        <translation>变更内容：distributed.norm bn -&gt; syncbn。此后每个 BatchNorm 层在每一步中基于全部 %1 张图像进行归一化，而不是每个进程 %2 张。

从 weights/last.pt 沿用的内容：权重及其 EMA、滑动统计量、优化器状态、轮次、迭代和学习率调度、随机状态，以及为下一次优化器更新已累积的梯度。运行在同一目录中继续；其 args.yaml 会记录此变更。%3</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>

The run is training: it stops after this iteration, saves last.pt, and resumes with SyncBN.</source>
        <translation>

该运行正在训练：它会在本次迭代后停止，保存 last.pt，然后以 SyncBN 继续训练。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Switch and Resume</source>
        <translation>切换并继续训练</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>%1 has no weights/last.pt and args.yaml to resume from.</source>
        <translation>%1 中没有可用于继续训练的 weights/last.pt 和 args.yaml。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>GroupNorm normalises each image over groups of channels, so it does not depend on the batch at all. Its parameters differ from BatchNorm&apos;s: this is a new run, trained from the start.</source>
        <translation>GroupNorm 按通道分组对每张图像单独归一化，因此完全不依赖于批次。它的参数与 BatchNorm 的不同：这是一次从头开始训练的新运行。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Frozen BatchNorm normalises with fixed running statistics and does not learn its scale and shift. It fits fine-tuning from weights whose statistics are already good; from scratch the statistics stay at their initial values, so prefer SyncBN or GroupNorm there.</source>
        <translation>Frozen BatchNorm 使用固定的滑动统计量进行归一化，且不学习其缩放和偏移参数。它适合从统计量已经良好的权重开始微调；若从头训练，统计量会一直停留在初始值，因此这种情况下应优先选择 SyncBN 或 GroupNorm。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>A loss that oscillates while BatchNorm&apos;s statistics are sound usually steps too far: half the initial learning rate, in a new run.</source>
        <translation>若 BatchNorm 的统计量正常而损失仍在振荡，通常是更新步长过大：请在新运行中将初始学习率减半。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>A run is training. Stop it first; this starts a new run.</source>
        <translation>有运行正在训练。请先停止它；此操作会开始一次新运行。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>%1: %2 -&gt; %3</source>
        <translation>%1：%2 -&gt; %3</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Start a new run with these changes?</source>
        <translation>使用这些修改开始新运行？</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Start</source>
        <translation>开始</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Fine-tune from %1</source>
        <translation>从 %1 微调</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The new run starts from %1&apos;s best weights (its EMA at its best epoch), builds the model they were trained as and fine-tunes it on this configuration&apos;s dataset: every tensor that fits transfers, and the class branches follow the dataset&apos;s classes. %1 itself is left as it is.</source>
        <translation>新的运行从 %1 的最佳权重（其最佳轮次的 EMA）开始，按这些权重训练时的模型构建，并在本配置的数据集上微调：所有形状相符的张量都会迁移，类别分支随数据集的类别而定。%1 本身保持不变。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Only the first %1 selected runs are compared.</source>
        <translation>只对比所选的前 %1 个运行。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Compare Runs</source>
        <translation>对比运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Some runs could not be opened.</source>
        <translation>部分运行无法打开。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fewer than two runs could be opened.</source>
        <translation>能打开的运行少于两个。</translation>
    </message>
    <message>
        <location line="+14"/>
        <location line="+11"/>
        <source>A/B: BN vs SyncBN</source>
        <translation>A/B 测试：BN 与 SyncBN</translation>
    </message>
    <message>
        <location line="-10"/>
        <source>A run is training. Stop it first; the A/B test starts two new runs.</source>
        <translation>有运行正在训练。请先停止它；A/B 测试会开始两次新运行。</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Trains this configuration twice, one run after the other, with the same seed:
  %1-ab-bn: distributed.norm = bn
  %1-ab-syncbn: distributed.norm = syncbn
and overlays them in Compare as they train. Your configuration is not changed.

Epochs for each run:</source>
        <translation>使用相同的随机种子，依次将此配置训练两次：
  %1-ab-bn：distributed.norm = bn
  %1-ab-syncbn：distributed.norm = syncbn
并在训练过程中于“对比”中叠加显示。您的配置不会被修改。

每次运行的轮数：</translation>
    </message>
    <message>
        <location line="+38"/>
        <source>A/B run %1 of 2 started</source>
        <translation>已开始 A/B 测试的第 %1 次运行（共 2 次）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Open Run</source>
        <translation>打开运行</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Kill the Engine?</source>
        <translation>强制终止引擎？</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The engine and its ranks end at once. What was saved so far stays; the iterations since the last checkpoint are lost.</source>
        <translation>引擎及其所有进程将立即结束。已保存的内容会保留；自上一个检查点以来的迭代将丢失。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Kill</source>
        <translation>强制终止</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>A/B comparison abandoned: its first run did not complete</source>
        <translation>A/B 对比已放弃：其第一次运行未完成</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Run %1: %2</source>
        <translation>运行 %1：%2</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Training Failed</source>
        <translation>训练失败</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Everything received before the failure is kept; the log has the engine&apos;s own words.</source>
        <translation>失败前收到的所有数据均已保留；引擎自身的报错信息见日志。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>A Run Is Training</source>
        <translation>有运行正在训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 is still training.</source>
        <translation>%1 仍在训练。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Stop it (saving weights/last.pt, so it can be resumed), or leave it running in the background and follow it later from Runs?</source>
        <translation>要停止它（保存 weights/last.pt，以便之后继续训练），还是让它在后台继续运行，稍后在“运行记录”中跟踪？</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Stop the Run</source>
        <translation>停止运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Leave It Running</source>
        <translation>保持运行</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Stopping the run; the studio closes once weights/last.pt is saved.</source>
        <translation>正在停止运行；保存 weights/last.pt 后 Studio 将关闭。</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>About SyncBN Studio</source>
        <translation>关于 SyncBN Studio</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Documentation</source>
        <translation>文档</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The documentation is not installed beside this program (share/doc/syncbn-studio).</source>
        <translation>本程序旁未安装文档（share/doc/syncbn-studio）。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>No program is set to open %1.</source>
        <translation>没有设置用于打开 %1 的程序。</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Copied the versions, system, devices and the run&apos;s last log lines: paste them into the report.</source>
        <translation>已复制版本、系统、设备以及本次运行的最后几行日志：请粘贴到问题报告中。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>%1[*] — SyncBN Studio</source>
        <translation>%1[*] — SyncBN Studio</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>%1, %2</source>
        <translation>%1，%2</translation>
    </message>
    <message numerus="yes">
        <location line="+0"/>
        <source>%n error(s)</source>
        <translation>
            <numerusform>%n 个错误</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+0"/>
        <source>%n warning(s)</source>
        <translation>
            <numerusform>%n 个警告</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>studio::ModelInfo</name>
    <message>
        <location filename="../stores/model_info.cpp" line="-170"/>
        <source>Cannot write a temporary file: %1</source>
        <translation>无法写入临时文件：%1</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>The engine&apos;s model report has an unknown schema.</source>
        <translation>引擎的模型报告使用了未知的模式版本。</translation>
    </message>
</context>
<context>
    <name>studio::ModelLayersModel</name>
    <message>
        <location line="+106"/>
        <source>The layers this one takes its input from (-1: the previous one)</source>
        <translation>本层的输入来自哪些层（-1：上一层）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Repeats after depth scaling</source>
        <translation>深度缩放后的重复次数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>GFLOPs of this layer&apos;s convolutions for one image at imgsz</source>
        <translation>本层卷积在 imgsz 尺寸下处理一张图像的 GFLOPs</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>From</source>
        <translation>输入自</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>n</source>
        <translation>n</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>GFLOPs</source>
        <translation>GFLOPs</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Module</source>
        <translation>模块</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Arguments</source>
        <translation>参数</translation>
    </message>
</context>
<context>
    <name>studio::ModelPanel</name>
    <message>
        <location filename="../widgets/model/model_panel.cpp" line="+16"/>
        <source>Scale:</source>
        <translation>规模：</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>Custom &amp;YAML...</source>
        <translation>自定义 YAML(&amp;Y)...</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Train a model YAML of your own (Ultralytics&apos; format: nc, scales, backbone, head)</source>
        <translation>训练您自己的模型 YAML（Ultralytics 格式：nc、scales、backbone、head）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Pretrained &amp;Weights...</source>
        <translation>预训练权重(&amp;W)...</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Fine-tune from weights: an Ultralytics checkpoint (yolov8n.pt, a run&apos;s best.pt) or a best.pt of this studio. The model is the one the weights were trained as, and every tensor that fits your dataset transfers.</source>
        <translation>从权重微调：Ultralytics 检查点（yolov8n.pt、某次运行的 best.pt）或本工作室的 best.pt。模型即这些权重训练时的模型，所有与您的数据集相符的张量都会迁移。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Reload</source>
        <translation>重新加载(&amp;R)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Read the model file again (after editing it elsewhere)</source>
        <translation>重新读取模型文件（在其他地方编辑之后）</translation>
    </message>
    <message>
        <location line="+69"/>
        <source>Model YAML</source>
        <translation>模型 YAML</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>YAML files (*.yaml *.yml)</source>
        <translation>YAML 文件 (*.yaml *.yml)</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Pretrained Weights</source>
        <translation>预训练权重</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Weights (*.pt *.pth);;All files (*)</source>
        <translation>权重 (*.pt *.pth);;所有文件 (*)</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>%1 summary: %2 layers, %3 parameters, %4 gradients, %5 GFLOPs</source>
        <translation>%1 概要：%2 层，%3 个参数，%4 个梯度，%5 GFLOPs</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>&lt;b&gt;%1&lt;/b&gt; at %2 x %2 px, %3 classes, from %4.&lt;br&gt;Training keeps about %5 million activation values per image for the backward pass.%6</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;，%2 x %2 像素，%3 个类别，来自 %4。&lt;br&gt;训练时每张图像约保留 %5 百万个激活值用于反向传播。%6</translation>
    </message>
    <message>
        <location line="+7"/>
        <source> Updating...</source>
        <translation>正在更新...</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Asking the engine about the model...</source>
        <translation>正在向引擎查询模型信息...</translation>
    </message>
    <message numerus="yes">
        <location line="+8"/>
        <source>&lt;b&gt;Starting weights&lt;/b&gt;: %1 (%2, %3), trained on %n class(es)</source>
        <translation>
            <numerusform>&lt;b&gt;起始权重&lt;/b&gt;：%1（%2，%3），在 %n 个类别上训练</numerusform>
        </translation>
    </message>
    <message>
        <location line="+3"/>
        <source> at %1 px</source>
        <translation>，图像 %1 像素</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Transferred %1/%2 items.</source>
        <translation>已迁移 %1/%2 项。</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Kept as initialised: %1. The class branches follow your dataset&apos;s classes.</source>
        <translation>保持初始化：%1。类别分支随您的数据集的类别而定。</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>%1: %2</source>
        <translation>%1：%2</translation>
    </message>
</context>
<context>
    <name>studio::MonitorView</name>
    <message>
        <location filename="../widgets/monitor/monitor_view.cpp" line="+85"/>
        <source>Overview</source>
        <translation>概览</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>BatchNorm</source>
        <translation>BatchNorm</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>X axis:</source>
        <translation>X 轴：</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Plot against iterations, epochs or the wall time since the run started</source>
        <translation>以迭代、轮次或自运行开始以来的实际时间作为横轴绘图</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Iteration</source>
        <translation>迭代</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Wall time</source>
        <translation>实际时间</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Smoothing:</source>
        <translation>平滑：</translation>
    </message>
    <message>
        <location line="+7"/>
        <source>Weight of TensorBoard&apos;s debiased exponential moving average over the raw values: 0 follows the data, 0.99 smooths heavily. The raw values stay drawn, faint.</source>
        <translation>TensorBoard 去偏指数移动平均相对于原始值的权重：0 紧跟原始数据，0.99 强烈平滑。原始值仍以浅色绘制。</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Per-rank losses</source>
        <translation>各进程损失</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Overlay each rank&apos;s total loss (smoothed, dashed). With plain BatchNorm and few images per rank the ranks&apos; losses part.</source>
        <translation>叠加显示每个进程的总损失（平滑后，虚线）。使用普通 BatchNorm 且每个进程的图像较少时，各进程的损失会出现分化。</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Wheel: zoom · drag: pan · double-click: follow</source>
        <translation>滚轮：缩放 · 拖动：平移 · 双击：跟随</translation>
    </message>
    <message>
        <location line="+36"/>
        <source>lr</source>
        <translation>lr</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+20"/>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <location line="-17"/>
        <source>images/s</source>
        <translation>图像/秒</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Images/s</source>
        <translation>图像/秒</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Rolling standard deviation of the total loss around its smoothed trend, divided by the trend, over the last %1 iterations. Above the dashed line the loss oscillates.</source>
        <translation>总损失相对其平滑趋势的滚动标准差除以趋势值，统计最近 %1 次迭代。高于虚线表示损失在振荡。</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Loss</source>
        <translation>损失</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Validation</source>
        <translation>验证</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Oscillation</source>
        <translation>振荡</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Throughput</source>
        <translation>吞吐量</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>The slowest rank (longest mean step) is highlighted</source>
        <translation>最慢的进程（平均每步耗时最长）会高亮显示</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Ranks</source>
        <translation>进程</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Classes</source>
        <translation>类别</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Log</source>
        <translation>日志</translation>
    </message>
    <message>
        <location line="+46"/>
        <source>&lt;b&gt;%1&lt;/b&gt; %2 &lt;a href=&quot;#batchnorm&quot;&gt;Diagnosis and fixes&lt;/a&gt;</source>
        <translation>&lt;b&gt;%1&lt;/b&gt; %2 &lt;a href=&quot;#batchnorm&quot;&gt;诊断与修复&lt;/a&gt;</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Problem:</source>
        <translation>问题：</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Warning:</source>
        <translation>警告：</translation>
    </message>
    <message>
        <location line="+27"/>
        <source>warming up</source>
        <translation>收集数据中</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>oscillating %1</source>
        <translation>振荡 %1</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>steady %1</source>
        <translation>平稳 %1</translation>
    </message>
</context>
<context>
    <name>studio::NewDatasetDialog</name>
    <message>
        <location filename="../widgets/dataset/new_dataset_dialog.cpp" line="+31"/>
        <source>New data.yaml</source>
        <translation>新建 data.yaml</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Choose the folders of train and val images and name the classes. Labels are YOLO text files: for &lt;i&gt;.../images/train/a.jpg&lt;/i&gt; the studio reads &lt;i&gt;.../labels/train/a.txt&lt;/i&gt;, elsewhere &lt;i&gt;a.txt&lt;/i&gt; beside the image. An image without a label file is a background.</source>
        <translation>选择训练和验证图像所在的文件夹，并为各类别命名。标签为 YOLO 文本文件：对于 &lt;i&gt;.../images/train/a.jpg&lt;/i&gt;，Studio 读取 &lt;i&gt;.../labels/train/a.txt&lt;/i&gt;；其他情况下读取图像旁边的 &lt;i&gt;a.txt&lt;/i&gt;。没有标签文件的图像视为背景图。</translation>
    </message>
    <message>
        <location line="+17"/>
        <source>&amp;Train images:</source>
        <translation>训练图像(&amp;T)：</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Folder of training images, searched recursively</source>
        <translation>训练图像所在的文件夹，将递归搜索</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Val images:</source>
        <translation>验证图像(&amp;V)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Folder of validation images; the train folder again is allowed</source>
        <translation>验证图像所在的文件夹；也可以再次使用训练文件夹</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>T&amp;est images:</source>
        <translation>测试图像(&amp;E)：</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Optional folder of test images</source>
        <translation>测试图像所在的文件夹（可选）</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>One class name per line, in class-id order:
scratch
dent</source>
        <translation>每行一个类别名称，按类别 ID 顺序：
划痕
凹痕</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Line 1 is class 0, line 2 class 1, ... as in the label files</source>
        <translation>第 1 行为类别 0，第 2 行为类别 1，...，与标签文件中一致</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Classes:</source>
        <translation>类别(&amp;C)：</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Where to write the data.yaml</source>
        <translation>data.yaml 的写入位置</translation>
    </message>
    <message>
        <location line="+5"/>
        <location line="+44"/>
        <source>Browse...</source>
        <translation>浏览...</translation>
    </message>
    <message>
        <location line="-42"/>
        <source>&amp;Save as:</source>
        <translation>另存为(&amp;S)：</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Save data.yaml</source>
        <translation>保存 data.yaml</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>YAML files (*.yaml *.yml)</source>
        <translation>YAML 文件 (*.yaml *.yml)</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Create</source>
        <translation>创建</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>(none)</source>
        <translation>（无）</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>choose where to save the data.yaml</source>
        <translation>选择 data.yaml 的保存位置</translation>
    </message>
    <message numerus="yes">
        <location line="+24"/>
        <source>Ready: %n class(es).</source>
        <translation>
            <numerusform>就绪：%n 个类别。</numerusform>
        </translation>
    </message>
    <message>
        <location line="+1"/>
        <source>To do: %1.</source>
        <translation>待完成：%1。</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>Replace data.yaml?</source>
        <translation>替换 data.yaml？</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 exists. Replace it?</source>
        <translation>%1 已存在。是否替换？</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Cannot Write data.yaml</source>
        <translation>无法写入 data.yaml</translation>
    </message>
</context>
<context>
    <name>studio::OscillationPlot</name>
    <message>
        <location filename="../widgets/monitor/series_plot.cpp" line="+17"/>
        <source>oscillation index</source>
        <translation>振荡指数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Std / trend</source>
        <translation>标准差 / 趋势</translation>
    </message>
    <message numerus="yes">
        <location line="+5"/>
        <source>Needs %n step(s)</source>
        <translation>
            <numerusform>需要 %n 步</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>studio::PredictDialog</name>
    <message>
        <location filename="../widgets/deploy/predict_dialog.cpp" line="+31"/>
        <source>Predict Preview</source>
        <translation>预测预览</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>A checkpoint, or a file exported from it (ONNX runs in OpenCV DNN)</source>
        <translation>检查点，或由其导出的文件（ONNX 在 OpenCV DNN 中运行）</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Boxes scoring below this are not shown</source>
        <translation>得分低于此值的框不显示</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Weights:</source>
        <translation>权重(&amp;W)：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Confidence:</source>
        <translation>置信度(&amp;C)：</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Choose images to see the boxes the weights find in them.</source>
        <translation>选择图像，查看这些权重在其中找到的框。</translation>
    </message>
    <message>
        <location line="+14"/>
        <source>Choose &amp;Images...</source>
        <translation>选择图像(&amp;I)...</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Predict</source>
        <translation>预测(&amp;P)</translation>
    </message>
    <message>
        <location line="+19"/>
        <source>%1 has no weights yet.</source>
        <translation>%1 还没有权重。</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Choose Images</source>
        <translation>选择图像</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp)</source>
        <translation>图像 (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp)</translation>
    </message>
    <message>
        <location line="+40"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message numerus="yes">
        <location line="+4"/>
        <source>Predicting %n image(s) with %1...</source>
        <translation>
            <numerusform>正在用 %1 预测 %n 张图像...</numerusform>
        </translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>exit code %1</source>
        <translation>退出码 %1</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Prediction failed: %1</source>
        <translation>预测失败：%1</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>%1: %2 (%3 ms)</source>
        <translation>%1：%2（%3 毫秒）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>no detections</source>
        <translation>无检测结果</translation>
    </message>
    <message numerus="yes">
        <location line="+7"/>
        <source>%n detection(s) in %1 image(s).</source>
        <translation>
            <numerusform>%1 张图像中共 %n 个检测结果。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>studio::PreferencesDialog</name>
    <message>
        <location filename="../widgets/settings/preferences_dialog.cpp" line="+20"/>
        <source>Preferences</source>
        <translation>首选项</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Find it automatically</source>
        <translation>自动查找</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>The syncbn-engine executable the studio starts. Leave empty to use the one beside syncbn-studio, else the first on PATH.</source>
        <translation>Studio 启动的 syncbn-engine 可执行文件。留空则使用与 syncbn-studio 同目录的那个，否则使用 PATH 中找到的第一个。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Browse...</source>
        <translation>浏览...</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Engine:</source>
        <translation>引擎(&amp;E)：</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>syncbn-engine</source>
        <translation>syncbn-engine</translation>
    </message>
    <message>
        <location line="+28"/>
        <source>Starts %1</source>
        <translation>将启动 %1</translation>
    </message>
</context>
<context>
    <name>studio::ProgressServer</name>
    <message>
        <location filename="../stores/progress_server.cpp" line="+64"/>
        <source>Cannot create the private directory %1.</source>
        <translation>无法创建私有目录 %1。</translation>
    </message>
    <message>
        <location line="+11"/>
        <source>Cannot listen on %1: %2</source>
        <translation>无法在 %1 上监听：%2</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>too many connections at once</source>
        <translation>同时连接数过多</translation>
    </message>
    <message>
        <location line="+12"/>
        <source>no hello within %1 s</source>
        <translation>%1 秒内未收到 hello</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>its first line is not a message (%1)</source>
        <translation>其第一行不是消息（%1）</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>it began with &apos;%1&apos; instead of hello</source>
        <translation>它以“%1”开头，而不是 hello</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>it speaks protocol version %1; this studio speaks version %2</source>
        <translation>它使用协议版本 %1；本 Studio 使用版本 %2</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>wrong session token</source>
        <translation>会话令牌错误</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>an engine is already connected</source>
        <translation>已有引擎连接</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>this run&apos;s engine has already reconnected once</source>
        <translation>本次运行的引擎已重新连接过一次</translation>
    </message>
</context>
<context>
    <name>studio::RankTimingModel</name>
    <message numerus="yes">
        <location filename="../stores/monitor_models.cpp" line="-133"/>
        <source>latest / mean over %n step(s), in milliseconds</source>
        <translation>
            <numerusform>最新值 / %n 步平均值，单位为毫秒</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>%1 / %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <location line="+31"/>
        <source>Waiting for the next batch (loading, augmentation, copying to the device)</source>
        <translation>等待下一个批次（加载、数据增强、复制到设备）</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Forward, loss and backward</source>
        <translation>前向传播、损失计算和反向传播</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Waiting for the other ranks: gradient all-reduce and the step&apos;s exchange</source>
        <translation>等待其他进程：梯度 all-reduce 和每步的数据交换</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Per-rank batch divided by the mean step time</source>
        <translation>每进程批大小除以平均每步时间</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>Rank</source>
        <translation>进程</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Data ms</source>
        <translation>数据 ms</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Compute ms</source>
        <translation>计算 ms</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Comm ms</source>
        <translation>通信 ms</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Compute</source>
        <translation>计算</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Comm</source>
        <translation>通信</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Images/s</source>
        <translation>图像/秒</translation>
    </message>
</context>
<context>
    <name>studio::RecalibrateDialog</name>
    <message>
        <location filename="../widgets/bn/recalibrate_dialog.cpp" line="+38"/>
        <source>Recalibrate with PreciseBN</source>
        <translation>使用 PreciseBN 重新校准</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>PreciseBN recomputes the running statistics of the checkpoint&apos;s BatchNorm layers (its EMA weights) over training batches, letterboxed and without augmentation, so that inference normalises with statistics of many images instead of the noisy average training left. It validates before and after and writes a new checkpoint; the run&apos;s own checkpoints stay as they are.</source>
        <translation>PreciseBN 在训练批次上（仅做 letterbox 缩放填充，不做数据增强）重新计算检查点中 BatchNorm 层（其 EMA 权重）的滑动统计量，使推理时用大量图像的统计量进行归一化，而不是训练遗留下的带噪声的平均值。它会在重新计算前后分别进行验证，并写出一个新的检查点；该运行自身的检查点保持不变。</translation>
    </message>
    <message>
        <location line="+20"/>
        <source>Training batches the statistics are computed over</source>
        <translation>用于计算统计量的训练批次数</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Checkpoint:</source>
        <translation>检查点：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Batches:</source>
        <translation>批次数：</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Writes:</source>
        <translation>写入：</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Recalibrate</source>
        <translation>重新校准</translation>
    </message>
    <message>
        <location line="+21"/>
        <source>%1 has no weights/last.pt or best.pt yet.</source>
        <translation>%1 中还没有 weights/last.pt 或 best.pt。</translation>
    </message>
    <message>
        <location line="+23"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>Recalibrating over %n batch(es)...</source>
        <translation>
            <numerusform>正在基于 %n 个批次重新校准...</numerusform>
        </translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Recalibration failed: %1</source>
        <translation>重新校准失败：%1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>exit code %1</source>
        <translation>退出码 %1</translation>
    </message>
    <message>
        <location line="+9"/>
        <source>Validation before: mAP50 %1, mAP50-95 %2
Validation after: mAP50 %3, mAP50-95 %4
Written: %5</source>
        <translation>校准前验证：mAP50 %1，mAP50-95 %2
校准后验证：mAP50 %3，mAP50-95 %4
已写入：%5</translation>
    </message>
</context>
<context>
    <name>studio::RecentFilesMenu</name>
    <message>
        <location filename="../app/recent_files_menu.cpp" line="+10"/>
        <source>Open &amp;Recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <location line="+16"/>
        <source>&amp;%1 %2</source>
        <translation>&amp;%1 %2</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>&amp;Clear Menu</source>
        <translation>清除菜单(&amp;C)</translation>
    </message>
</context>
<context>
    <name>studio::RunHistory</name>
    <message>
        <location filename="../stores/run_history.cpp" line="+58"/>
        <source>completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>running</source>
        <translation>运行中</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>interrupted</source>
        <translation>已中断</translation>
    </message>
    <message>
        <location line="+45"/>
        <source>%1/%2</source>
        <translation>%1/%2</translation>
    </message>
    <message>
        <location line="+18"/>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Started</source>
        <translation>开始时间</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Norm</source>
        <translation>归一化</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Ranks</source>
        <translation>进程</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Epochs</source>
        <translation>训练轮数</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Best mAP50-95</source>
        <translation>最佳 mAP50-95</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
</context>
<context>
    <name>studio::RunLibrary</name>
    <message>
        <location filename="../stores/run_library.cpp" line="+59"/>
        <source>%1 holds no events.jsonl or results.csv: it is not a training run.</source>
        <translation>%1 中没有 events.jsonl 或 results.csv：它不是训练运行。</translation>
    </message>
    <message>
        <location line="+44"/>
        <source>new run</source>
        <translation>新运行</translation>
    </message>
</context>
<context>
    <name>studio::RunStatusLine</name>
    <message>
        <location filename="../widgets/monitor/run_status_line.cpp" line="+113"/>
        <source>epoch %1/%2</source>
        <translation>轮次 %1/%2</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>iteration %1/%2</source>
        <translation>迭代 %1/%2</translation>
    </message>
    <message numerus="yes">
        <location line="+4"/>
        <source>%n epoch(s)</source>
        <translation>
            <numerusform>%n 轮</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 x %2 images, %3</source>
        <translation>%1 x %2 张图像，%3</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>ETA %1</source>
        <translation>预计剩余 %1</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>%1 img/s</source>
        <translation>%1 图像/秒</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>best mAP50-95 %1</source>
        <translation>最佳 mAP50-95 %1</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n line(s) ignored</source>
        <translation>
            <numerusform>已忽略 %n 行</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>studio::RunStore</name>
    <message>
        <location filename="../stores/run_store.cpp" line="+73"/>
        <source>This record continues with another run directory: %1</source>
        <translation>此记录在另一个运行目录中继续：%1</translation>
    </message>
    <message>
        <location line="+177"/>
        <source>Rank %1 %2</source>
        <translation>进程 %1：%2</translation>
    </message>
    <message>
        <location line="+22"/>
        <source>Ignored a progress line: %1</source>
        <translation>已忽略一行进度消息：%1</translation>
    </message>
</context>
<context>
    <name>studio::RunsView</name>
    <message>
        <location filename="../widgets/runs/runs_view.cpp" line="+44"/>
        <source>Change Folder...</source>
        <translation>更改文件夹...</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>List the runs of another project folder</source>
        <translation>列出另一个项目文件夹中的运行记录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Read the folder again (F5)</source>
        <translation>重新读取文件夹 (F5)</translation>
    </message>
    <message>
        <location line="+26"/>
        <location line="+56"/>
        <source>Open</source>
        <translation>打开</translation>
    </message>
    <message>
        <location line="-55"/>
        <source>Show this run&apos;s curves in the Train mode (Enter)</source>
        <translation>在“训练”模式中显示此运行的曲线 (Enter)</translation>
    </message>
    <message>
        <location line="+1"/>
        <location line="+55"/>
        <source>Resume</source>
        <translation>继续训练</translation>
    </message>
    <message>
        <location line="-54"/>
        <source>Continue this run from its weights/last.pt</source>
        <translation>从 weights/last.pt 继续训练此运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Fine-tune</source>
        <translation>微调</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Start a new run from this run&apos;s weights/best.pt, fine-tuned with the configuration being edited (its dataset, epochs and settings)</source>
        <translation>以本次运行的 weights/best.pt 开始新的运行，按正在编辑的配置（其数据集、轮数和设置）微调</translation>
    </message>
    <message>
        <location line="+2"/>
        <location line="+58"/>
        <source>Show in Folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <location line="-57"/>
        <source>Open the run directory in the file manager</source>
        <translation>在文件管理器中打开运行目录</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>Compare</source>
        <translation>对比</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>Overlay the selected runs&apos; losses, validation and BatchNorm figures (select two or more with Ctrl+click or Shift+click)</source>
        <translation>叠加显示所选运行的损失、验证和 BatchNorm 图表（按住 Ctrl 或 Shift 单击可选择两个或更多）</translation>
    </message>
    <message>
        <location line="+42"/>
        <source>Export Weights...</source>
        <translation>导出权重...</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Predict Preview...</source>
        <translation>预测预览...</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Fine-tune from This...</source>
        <translation>从此运行微调...</translation>
    </message>
    <message>
        <location line="+63"/>
        <source>Project Folder</source>
        <translation>项目文件夹</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Runs in %1</source>
        <translation>%1 中的运行记录</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>No runs here yet. Start one from the Run menu (Ctrl+R), or change the folder.</source>
        <translation>这里还没有运行记录。可从“运行”菜单开始一次运行 (Ctrl+R)，或更改文件夹。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>%1 does not exist yet: it is made by the first run with this project folder.</source>
        <translation>%1 尚不存在：使用此项目文件夹的第一次运行会创建它。</translation>
    </message>
</context>
<context>
    <name>studio::SeriesPlot</name>
    <message>
        <location filename="../widgets/monitor/series_plot.cpp" line="-139"/>
        <source>%1 (raw)</source>
        <translation>%1（原始值）</translation>
    </message>
</context>
<context>
    <name>studio::StudioActions</name>
    <message>
        <location filename="../app/studio_actions.cpp" line="+134"/>
        <source>&amp;New</source>
        <translation>新建(&amp;N)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Start a new configuration with default values</source>
        <translation>以默认值新建配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Open...</source>
        <translation>打开(&amp;O)...</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Open a configuration YAML file</source>
        <translation>打开配置 YAML 文件</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Save</source>
        <translation>保存(&amp;S)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save the configuration</source>
        <translation>保存配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Save &amp;As...</source>
        <translation>另存为(&amp;A)...</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save the configuration under a new name</source>
        <translation>以新名称保存配置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open &amp;Run...</source>
        <translation>打开运行(&amp;R)...</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Show a run directory&apos;s curves: finished, or still training from a terminal</source>
        <translation>显示某个运行目录的曲线：已完成的运行，或仍在终端中训练的运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Preferences...</source>
        <translation>首选项(&amp;P)...</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Choose the engine the studio starts</source>
        <translation>选择 Studio 启动的引擎</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Quit SyncBN Studio</source>
        <translation>退出 SyncBN Studio</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Start Training</source>
        <translation>开始训练(&amp;S)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Train with this configuration</source>
        <translation>使用此配置进行训练</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Stop after this iteration and save weights/last.pt</source>
        <translation>在本次迭代后停止并保存 weights/last.pt</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Kill</source>
        <translation>强制终止(&amp;K)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>End the engine and its ranks at once, without saving</source>
        <translation>立即结束引擎及其所有进程，不保存</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Resume</source>
        <translation>继续训练(&amp;R)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Continue the run from its weights/last.pt</source>
        <translation>从 weights/last.pt 继续训练该运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Checkpoint Now</source>
        <translation>立即保存检查点(&amp;C)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Save weights/last.pt after this iteration</source>
        <translation>在本次迭代后保存 weights/last.pt</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;A/B: BN vs SyncBN...</source>
        <translation>A/B 测试：BN 与 SyncBN(&amp;A)...</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Train this configuration twice for a few epochs, once with BN and once with SyncBN, and compare them</source>
        <translation>将此配置分别用 BN 和 SyncBN 各训练几轮，并进行对比</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Launch Elsewhere...</source>
        <translation>在其他机器上启动(&amp;L)...</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>This configuration as a torchrun command per node, a Slurm batch script or a Kubernetes PyTorchJob</source>
        <translation>将此配置生成为每个节点的 torchrun 命令、Slurm 批处理脚本或 Kubernetes PyTorchJob</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Export Weights...</source>
        <translation>导出权重(&amp;E)...</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Write the run&apos;s best or last weights as ONNX or TorchScript, checked in their own runtime</source>
        <translation>将运行的最佳或最新权重写为 ONNX 或 TorchScript，并在其自身的运行时中检查</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>&amp;Predict Preview...</source>
        <translation>预测预览(&amp;P)...</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Pick images and see the boxes the run&apos;s weights find in them</source>
        <translation>选择图像，查看运行的权重在其中找到的框</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;Configure</source>
        <translation>配置(&amp;C)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Edit the dataset, model, training and distributed settings</source>
        <translation>编辑数据集、模型、训练和分布式设置</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Train</source>
        <translation>训练(&amp;T)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Watch the current run: losses, validation, ranks, log</source>
        <translation>查看当前运行：损失、验证、进程、日志</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>R&amp;uns</source>
        <translation>运行记录(&amp;U)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>The runs of the project folder</source>
        <translation>项目文件夹中的运行记录</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Co&amp;mpare</source>
        <translation>对比(&amp;M)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Two or more runs overlaid on shared axes</source>
        <translation>在共享坐标轴上叠加显示两个或更多运行</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Compare Selected Runs</source>
        <translation>对比所选运行(&amp;C)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Overlay the runs selected in Runs: losses, oscillation, validation and BatchNorm figures</source>
        <translation>叠加显示在“运行记录”中选中的运行：损失、振荡、验证和 BatchNorm 图表</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>&amp;System</source>
        <translation>跟随系统(&amp;S)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>The language of this computer&apos;s settings</source>
        <translation>使用本机系统设置中的语言</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>&amp;Documentation</source>
        <translation>文档(&amp;D)</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Open the README and docs/ of this installation</source>
        <translation>打开本安装的 README 和 docs/</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>&amp;Report a Problem...</source>
        <translation>报告问题(&amp;R)...</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Copy the versions, system, devices and the run&apos;s last log lines for a bug report</source>
        <translation>复制版本、系统、设备以及本次运行的最后几行日志，用于问题报告</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>&amp;About SyncBN Studio</source>
        <translation>关于 SyncBN Studio(&amp;A)</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>Versions and what SyncBN Studio is</source>
        <translation>版本信息及 SyncBN Studio 简介</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>About &amp;Qt</source>
        <translation>关于 &amp;Qt</translation>
    </message>
    <message>
        <location line="+0"/>
        <source>The Qt version in use</source>
        <translation>当前使用的 Qt 版本</translation>
    </message>
</context>
<context>
    <name>studio::ThumbnailDelegate</name>
    <message>
        <location filename="../widgets/dataset/image_grid.cpp" line="-34"/>
        <source>skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>cannot decode</source>
        <translation>无法解码</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>loading...</source>
        <translation>正在加载...</translation>
    </message>
</context>
<context>
    <name>studio::TopologySummary</name>
    <message>
        <location filename="../widgets/config/topology_summary.cpp" line="+22"/>
        <source>Resolved topology</source>
        <translation>解析后的拓扑</translation>
    </message>
    <message>
        <location line="+6"/>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Where the ranks run. The editor cannot see the training machine&apos;s GPUs, so an empty device field is previewed as the CPU.</source>
        <translation>各进程的运行位置。编辑器无法看到训练机器上的 GPU，因此设备字段为空时按 CPU 预览。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>World size</source>
        <translation>进程总数</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Processes taking part in the run: ranks per node × nodes.</source>
        <translation>参与本次运行的进程：每节点进程数 × 节点数。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Per-rank batch</source>
        <translation>每进程批大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images each rank processes per iteration: the global batch divided by the world size. With norm=bn this is all BatchNorm sees.</source>
        <translation>每个进程每次迭代处理的图像数：全局批大小除以进程总数。使用 norm=bn 时，这就是 BatchNorm 能看到的全部图像。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>BatchNorm batch</source>
        <translation>BatchNorm 批大小</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Images each BatchNorm statistic is computed over.</source>
        <translation>每个 BatchNorm 统计量所基于的图像数。</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Gradient accumulation</source>
        <translation>梯度累积</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>Iterations whose gradients are summed before each optimizer step, to reach the nominal batch (nbs).</source>
        <translation>每次优化器更新前累加梯度的迭代次数，用以达到名义批大小 (nbs)。</translation>
    </message>
    <message>
        <location line="+2"/>
        <source>Backend</source>
        <translation>后端</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>The collective communication library the ranks use.</source>
        <translation>各进程使用的集合通信库。</translation>
    </message>
    <message>
        <location line="+32"/>
        <source>CUDA devices %1</source>
        <translation>CUDA 设备 %1</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>auto: every CUDA device of the training machine, else the CPU (previewed here as the CPU)</source>
        <translation>自动：训练机器上的所有 CUDA 设备，否则使用 CPU（此处按 CPU 预览）</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>CPU</source>
        <translation>CPU</translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>%n rank(s)</source>
        <translation>
            <numerusform>%n 个进程</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%n per node</source>
        <translation>
            <numerusform>每节点 %n 个</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+1"/>
        <source>%n node(s)</source>
        <translation>
            <numerusform>%n 个节点</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n 张图像</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>none: a global batch of %1 does not divide across %n rank(s)</source>
        <translation>
            <numerusform>无：全局批大小 %1 不能被 %n 个进程整除</numerusform>
        </translation>
    </message>
    <message>
        <location line="+8"/>
        <source>none: the global batch does not divide evenly</source>
        <translation>无：全局批大小不能整除</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n image(s), within each rank (bn)</source>
        <translation>
            <numerusform>%n 张图像，在每个进程内 (bn)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location line="+3"/>
        <source>%n image(s), synchronized over all ranks (syncbn)</source>
        <translation>
            <numerusform>%n 张图像，在所有进程间同步 (syncbn)</numerusform>
        </translation>
    </message>
    <message>
        <location line="+4"/>
        <source>not batch-based: GroupNorm normalizes each image on its own</source>
        <translation>不依赖批次：GroupNorm 对每张图像单独归一化</translation>
    </message>
    <message>
        <location line="+3"/>
        <source>none: frozen statistics are never updated</source>
        <translation>无：冻结的统计量从不更新</translation>
    </message>
    <message>
        <location line="+5"/>
        <source>none: the optimizer steps every iteration</source>
        <translation>无：优化器每次迭代都更新</translation>
    </message>
    <message numerus="yes">
        <location line="+2"/>
        <source>%n iteration(s) per optimizer step</source>
        <translation>
            <numerusform>每次优化器更新累积 %n 次迭代</numerusform>
        </translation>
    </message>
    <message>
        <location line="+2"/>
        <source>(%1 images per step; nominal batch %2)</source>
        <translation>（每次更新 %1 张图像；名义批大小 %2）</translation>
    </message>
    <message>
        <location line="+8"/>
        <source>%1 (chosen automatically)</source>
        <translation>%1（自动选择）</translation>
    </message>
</context>
<context>
    <name>studio::ValidationPlot</name>
    <message>
        <location filename="../widgets/monitor/series_plot.cpp" line="+151"/>
        <source>P</source>
        <translation>P</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>R</source>
        <translation>R</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>mAP50</source>
        <translation>mAP50</translation>
    </message>
    <message>
        <location line="+1"/>
        <source>mAP50-95</source>
        <translation>mAP50-95</translation>
    </message>
    <message>
        <location line="+10"/>
        <source>Metric</source>
        <translation>指标</translation>
    </message>
    <message>
        <location line="+15"/>
        <source>Validated after each epoch</source>
        <translation>每轮结束后验证</translation>
    </message>
    <message>
        <location line="+4"/>
        <source>Epoch</source>
        <translation>轮次</translation>
    </message>
    <message>
        <location line="+39"/>
        <source>best %1</source>
        <translation>最佳 %1</translation>
    </message>
</context>
</TS>
