#include "widgets/distributed/launch_dialog.h"

#include <QApplication>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTabWidget>
#include <QVBoxLayout>
#include <stdexcept>

#include "common/advice.h"
#include "common/atomic_file.h"
#include "common/config_yaml.h"
#include "common/launch_forms.h"
#include "common/topology.h"
#include "common/validation.h"
#include "stores/qt_text.h"
#include "stores/translated_text.h"

namespace studio {
namespace {

// The configuration's ranks per node: the CUDA devices it names, else this machine's, else a
// typical 8-GPU node; CPU ranks on the CPU.
int defaultRanksPerNode(const syncbn::Config& config, int localGpus) {
  if (config.distributed.device == "cpu") return config.distributed.cpu_ranks;
  if (const auto ids = syncbn::parseDeviceList(config.distributed.device); ids && !ids->empty())
    return static_cast<int>(ids->size());
  return localGpus > 0 ? localGpus : 8;
}

const char* const kFileSuffix[] = {"-torchrun.sh", ".sbatch", "-pytorchjob.yaml"};

}  // namespace

LaunchDialog::LaunchDialog(const syncbn::Config& config, const QString& configName, int localGpus,
                           QWidget* parent)
    : QDialog(parent), config_(config), name_(configName) {
  setObjectName(QStringLiteral("launchDialog"));
  setWindowTitle(tr("Launch Elsewhere"));
  auto* column = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  column->addLayout(form);

  nodes_ = new QSpinBox(this);
  nodes_->setObjectName(QStringLiteral("launchNodes"));
  nodes_->setRange(1, 4096);
  nodes_->setValue(config.distributed.nnodes);
  nodes_->setToolTip(tr("Machines taking part (distributed.nnodes)"));
  ranks_ = new QSpinBox(this);
  ranks_->setObjectName(QStringLiteral("launchRanks"));
  ranks_->setRange(1, 1024);
  ranks_->setValue(defaultRanksPerNode(config, localGpus));
  ranks_->setToolTip(config.distributed.device == "cpu"
                         ? tr("CPU ranks per node (distributed.cpu_ranks)")
                         : tr("GPUs per node: one rank each. Every node needs this many visible "
                              "GPUs."));
  masterAddr_ = new QLineEdit(toQString(config.distributed.master_addr), this);
  masterAddr_->setObjectName(QStringLiteral("launchMasterAddr"));
  masterAddr_->setToolTip(
      tr("Node 0's address, reachable from every node (distributed.master_addr)"));
  masterPort_ = new QSpinBox(this);
  masterPort_->setRange(1, 65535);
  masterPort_->setValue(config.distributed.master_port);
  engine_ = new QLineEdit(QStringLiteral("syncbn-engine"), this);
  engine_->setToolTip(tr("The engine on the nodes: a name on their PATH or an absolute path"));
  image_ = new QLineEdit(QStringLiteral("syncbn-studio:latest"), this);
  image_->setToolTip(tr("The container image with syncbn-engine, for Kubernetes"));
  folder_ = new QLineEdit(this);
  folder_->setObjectName(QStringLiteral("launchFolder"));
  folder_->setText(
      QDir::toNativeSeparators(QDir::current().absoluteFilePath(QStringLiteral("launch"))));
  folder_->setToolTip(
      tr("Where the configuration and the script are written; a folder the nodes "
         "share is simplest"));
  auto* folderRow = new QWidget(this);
  auto* folderLayout = new QHBoxLayout(folderRow);
  folderLayout->setContentsMargins(0, 0, 0, 0);
  folderLayout->addWidget(folder_, 1);
  auto* browse = new QPushButton(tr("Browse..."), folderRow);
  folderLayout->addWidget(browse);
  remoteConfig_ = new QLineEdit(this);
  remoteConfig_->setPlaceholderText(tr("(the written file's path)"));
  remoteConfig_->setToolTip(
      tr("The configuration's path as the nodes see it, when the folder is "
         "mounted elsewhere there"));

  form->addRow(tr("&Nodes:"), nodes_);
  form->addRow(
      config.distributed.device == "cpu" ? tr("CPU &ranks per node:") : tr("&GPUs per node:"),
      ranks_);
  form->addRow(tr("&Master address:"), masterAddr_);
  form->addRow(tr("Master &port:"), masterPort_);
  form->addRow(tr("&Engine on the nodes:"), engine_);
  form->addRow(tr("Container &image:"), image_);
  form->addRow(tr("Write to &folder:"), folderRow);
  form->addRow(tr("Configuration &on the nodes:"), remoteConfig_);

  advice_ = new QLabel(this);
  advice_->setObjectName(QStringLiteral("launchAdvice"));
  advice_->setWordWrap(true);
  QPalette palette = advice_->palette();
  palette.setColor(QPalette::WindowText, QColor(0xb0, 0x60, 0x00));
  advice_->setPalette(palette);
  column->addWidget(advice_);

  tabs_ = new QTabWidget(this);
  tabs_->setObjectName(QStringLiteral("launchTabs"));
  const QString titles[] = {tr("torchrun"), tr("Slurm"), tr("Kubernetes (Kubeflow)")};
  for (int f = 0; f < 3; ++f) {
    texts_[f] = new QPlainTextEdit(tabs_);
    texts_[f]->setReadOnly(true);
    texts_[f]->setLineWrapMode(QPlainTextEdit::NoWrap);
    texts_[f]->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    tabs_->addTab(texts_[f], titles[f]);
  }
  column->addWidget(tabs_, 1);

  status_ = new QLabel(this);
  status_->setObjectName(QStringLiteral("launchStatus"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  column->addWidget(status_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
  QPushButton* copy = buttons->addButton(tr("&Write Files and Copy"), QDialogButtonBox::ActionRole);
  copy->setObjectName(QStringLiteral("copyLaunchButton"));
  copy->setToolTip(
      tr("Write the configuration and this tab's file into the folder, and copy "
         "the command to the clipboard"));
  copy->setDefault(true);
  column->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(copy, &QPushButton::clicked, this,
          [this] { writeAndCopy(static_cast<Form>(tabs_->currentIndex())); });
  connect(browse, &QPushButton::clicked, this, [this] {
    const QString folder =
        QFileDialog::getExistingDirectory(this, tr("Write Launch Files To"), folder_->text());
    if (!folder.isEmpty()) folder_->setText(QDir::toNativeSeparators(folder));
  });
  for (QSpinBox* box : {nodes_, ranks_, masterPort_})
    connect(box, &QSpinBox::valueChanged, this, &LaunchDialog::regenerate);
  for (QLineEdit* edit : {masterAddr_, engine_, image_, folder_, remoteConfig_})
    connect(edit, &QLineEdit::textChanged, this, &LaunchDialog::regenerate);
  resize(820, 640);
  regenerate();
}

syncbn::Config LaunchDialog::launchedConfig() const {
  syncbn::Config config = config_;
  config.distributed.nnodes = nodes_->value();
  config.distributed.node_rank = 0;  // each node's rank comes from its launcher
  config.distributed.master_addr = toStdString(masterAddr_->text().trimmed());
  config.distributed.master_port = masterPort_->value();
  if (config.distributed.device == "cpu") {
    config.distributed.cpu_ranks = ranks_->value();
  } else if (const auto ids = syncbn::parseDeviceList(config.distributed.device);
             ids && !ids->empty() && static_cast<int>(ids->size()) != ranks_->value()) {
    config.distributed.device.clear();  // every visible GPU: as many as the launcher gives
  }
  return config;
}

QString LaunchDialog::configPath() const {
  const QString written = QDir(QDir::fromNativeSeparators(folder_->text().trimmed()))
                              .absoluteFilePath(name_ + QLatin1String(".yaml"));
  return remoteConfig_->text().trimmed().isEmpty() ? written : remoteConfig_->text().trimmed();
}

QString LaunchDialog::formText(Form form) const {
  return texts_[form]->toPlainText();
}

void LaunchDialog::regenerate() {
  const syncbn::Config config = launchedConfig();
  syncbn::LaunchSpec spec =
      syncbn::launchSpecFor(config, toStdString(configPath()), ranks_->value());
  spec.engine = toStdString(engine_->text().trimmed());
  spec.image = toStdString(image_->text().trimmed());
  try {
    std::string torchrun;
    for (int node = 0; node < spec.nnodes && node < 16; ++node)
      torchrun +=
          "# node " + std::to_string(node) + "\n" + syncbn::torchrunCommand(spec, node) + "\n";
    if (spec.nnodes > 16) torchrun += "# ... and so on: --node-rank K on node K\n";
    texts_[Torchrun]->setPlainText(toQString(torchrun));
    texts_[Slurm]->setPlainText(toQString(syncbn::slurmScript(spec)));
    texts_[Kubeflow]->setPlainText(toQString(syncbn::kubeflowManifest(spec)));
    status_->setText(tr("World size %1: %2 node(s) x %3 rank(s).")
                         .arg(spec.nnodes * spec.procsPerNode)
                         .arg(spec.nnodes)
                         .arg(spec.procsPerNode));
  } catch (const std::invalid_argument& e) {
    for (QPlainTextEdit* text : texts_)
      text->clear();
    status_->setText(tr("Cannot generate: %1").arg(toQString(e.what())));
  }
  // The rules the Problems list applies, for the settings edited here (loopback with several
  // nodes, batch not divisible by the new world size).
  syncbn::HostFacts host;
  host.cudaDevices = config.distributed.device == "cpu" ? 0 : ranks_->value();
  QStringList advice;
  for (const auto& all : {syncbn::validate(config, host), syncbn::advise(config, host)})
    for (const auto& d : all)
      if (d.field.rfind("distributed.", 0) == 0 || d.field == "train.batch")
        advice << toQString(d.field) + QStringLiteral(": ") + messageOf(d);
  advice_->setText(advice.join(QLatin1Char('\n')));
  advice_->setVisible(!advice.isEmpty());
}

void LaunchDialog::setFolder(const QString& folder) {
  folder_->setText(folder);
}

void LaunchDialog::setNodes(int nodes, int ranksPerNode, const QString& masterAddr) {
  nodes_->setValue(nodes);
  ranks_->setValue(ranksPerNode);
  masterAddr_->setText(masterAddr);
}

bool LaunchDialog::writeAndCopy(Form form, QStringList* written) {
  const QString text = formText(form);
  if (text.isEmpty()) return false;
  const QDir folder(QDir::fromNativeSeparators(folder_->text().trimmed()));
  if (!folder.exists() && !QDir().mkpath(folder.absolutePath())) {
    status_->setText(tr("Cannot create %1.").arg(QDir::toNativeSeparators(folder.absolutePath())));
    return false;
  }
  const QString configFile = folder.absoluteFilePath(name_ + QLatin1String(".yaml"));
  const QString formFile = folder.absoluteFilePath(name_ + QLatin1String(kFileSuffix[form]));
  try {
    syncbn::writeFileAtomically(toStdString(configFile), syncbn::toYaml(launchedConfig()));
    std::string body = toStdString(text);
    if (form == Torchrun) body = "#!/bin/sh\n# Run the line of each node on that node.\n" + body;
    syncbn::writeFileAtomically(toStdString(formFile), body);
  } catch (const std::exception& e) {
    status_->setText(toQString(e.what()));
    return false;
  }
  QFile::setPermissions(formFile, QFile::permissions(formFile) | QFileDevice::ExeOwner);
  // What to paste: the node-0 torchrun line, the sbatch call, the kubectl call.
  QString command;
  if (form == Torchrun)
    command = text.section(QLatin1Char('\n'), 1, 1);
  else if (form == Slurm)
    command = QStringLiteral("sbatch %1").arg(toQString(syncbn::shellQuote(toStdString(formFile))));
  else
    command = QStringLiteral("kubectl apply -f %1")
                  .arg(toQString(syncbn::shellQuote(toStdString(formFile))));
  QApplication::clipboard()->setText(command);
  status_->setText(
      tr("Wrote %1 and %2; copied: %3")
          .arg(QDir::toNativeSeparators(configFile), QDir::toNativeSeparators(formFile), command));
  if (written) *written = {configFile, formFile};
  return true;
}

}  // namespace studio
