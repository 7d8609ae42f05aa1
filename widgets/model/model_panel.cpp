#include "widgets/model/model_panel.h"

#include <QButtonGroup>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include "common/config_schema.h"
#include "stores/config_document.h"
#include "stores/model_info.h"
#include "stores/qt_text.h"
#include "widgets/common/line_marker.h"

namespace studio {
namespace {

struct Scale {
  const char* id;
  const char* tip;
};
// Ultralytics' YOLOv8 detection figures at 640 px, for a first choice; the table below is this
// configuration's own.
constexpr Scale kScales[] = {
    {"n", QT_TRANSLATE_NOOP("ModelPanel", "YOLOv8n: 3.2 M parameters, 8.7 GFLOPs")},
    {"s", QT_TRANSLATE_NOOP("ModelPanel", "YOLOv8s: 11.2 M parameters, 28.6 GFLOPs")},
    {"m", QT_TRANSLATE_NOOP("ModelPanel", "YOLOv8m: 25.9 M parameters, 78.9 GFLOPs")},
    {"l", QT_TRANSLATE_NOOP("ModelPanel", "YOLOv8l: 43.7 M parameters, 165.2 GFLOPs")},
    {"x", QT_TRANSLATE_NOOP("ModelPanel", "YOLOv8x: 68.2 M parameters, 257.8 GFLOPs")},
};

QString builtInName(const QString& scale) {
  return QStringLiteral("yolov8%1.yaml").arg(scale);
}

}  // namespace

ModelPanel::ModelPanel(ConfigDocument* document, ModelInfo* info, QWidget* parent)
    : QWidget(parent), document_(document), info_(info), layers_(new ModelLayersModel(info, this)) {
  setObjectName(QStringLiteral("modelPanel"));
  auto* column = new QVBoxLayout(this);
  column->setContentsMargins(0, 0, 0, 0);

  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Scale:"), this));
  auto* group = new QButtonGroup(this);
  // update() checks the one scale the model is, or none for a YAML or weights of the user's,
  // which an exclusive group would not allow.
  group->setExclusive(false);
  for (const Scale& scale : kScales) {
    auto* button = new QPushButton(QString::fromLatin1(scale.id), this);
    button->setObjectName(QStringLiteral("scale_") + QString::fromLatin1(scale.id));
    button->setCheckable(true);
    button->setToolTip(QCoreApplication::translate("ModelPanel", scale.tip));
    button->setMaximumWidth(44);
    group->addButton(button);
    scaleButtons_ << button;
    row->addWidget(button);
    connect(button, &QPushButton::clicked, this,
            [this, id = QString::fromLatin1(scale.id)] { setModel(builtInName(id)); });
  }
  auto* custom = new QPushButton(tr("Custom &YAML..."), this);
  custom->setObjectName(QStringLiteral("customModelButton"));
  custom->setToolTip(
      tr("Train a model YAML of your own (Ultralytics' format: nc, scales, "
         "backbone, head)"));
  auto* weights = new QPushButton(tr("Pretrained &Weights..."), this);
  weights->setObjectName(QStringLiteral("weightsButton"));
  weights->setToolTip(
      tr("Fine-tune from weights: an Ultralytics checkpoint (yolov8n.pt, a run's best.pt) or a "
         "best.pt of this studio. The model is the one the weights were trained as, and every "
         "tensor that fits your dataset transfers."));
  auto* refresh = new QPushButton(tr("&Reload"), this);
  refresh->setToolTip(tr("Read the model file again (after editing it elsewhere)"));
  row->addSpacing(12);
  row->addWidget(custom);
  row->addWidget(weights);
  row->addWidget(refresh);
  row->addStretch(1);
  column->addLayout(row);
  connect(custom, &QPushButton::clicked, this, &ModelPanel::chooseModelFile);
  connect(weights, &QPushButton::clicked, this, &ModelPanel::chooseWeightsFile);
  connect(refresh, &QPushButton::clicked, info_, &ModelInfo::refreshNow);

  summary_ = new QLabel(this);
  summary_->setObjectName(QStringLiteral("modelSummary"));
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  weights_ = new QLabel(this);
  weights_->setObjectName(QStringLiteral("modelWeights"));
  weights_->setWordWrap(true);
  weights_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  error_ = new QLabel(this);
  error_->setObjectName(QStringLiteral("modelError"));
  error_->setWordWrap(true);
  error_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QPalette red = error_->palette();
  red.setColor(QPalette::WindowText, QColor(0xc0, 0x30, 0x30));
  error_->setPalette(red);
  source_ = new QPlainTextEdit(this);
  source_->setObjectName(QStringLiteral("modelSource"));
  source_->setReadOnly(true);
  source_->setLineWrapMode(QPlainTextEdit::NoWrap);
  source_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  source_->setMaximumHeight(180);
  table_ = new QTableView(this);
  table_->setObjectName(QStringLiteral("layerTable"));
  table_->setModel(layers_);
  table_->verticalHeader()->setVisible(false);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setMinimumHeight(380);
  table_->setAlternatingRowColors(true);
  column->addWidget(summary_);
  column->addWidget(weights_);
  column->addWidget(error_);
  column->addWidget(source_);
  column->addWidget(table_, 1);

  connect(info_, &ModelInfo::changed, this, &ModelPanel::update);
  connect(info_, &ModelInfo::runningChanged, this, &ModelPanel::update);
  // The engine is asked when the page is looked at (and as it is edited), not at start-up.
  connect(document_, &ConfigDocument::configChanged, this, [this] {
    if (isVisible()) info_->request(document_->config());
    update();
  });
  update();
}

void ModelPanel::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  info_->request(document_->config());  // a no-op when nothing it depends on changed
}

void ModelPanel::setModel(const QString& model) {
  document_->setField(*syncbn::findField("model.model"), toStdString(model));
}

void ModelPanel::chooseModelFile() {
  const QString current = toQString(document_->config().model.model);
  const QString file = QFileDialog::getOpenFileName(
      this, tr("Model YAML"), QFileInfo(current).isFile() ? current : QDir::currentPath(),
      tr("YAML files (*.yaml *.yml)"));
  if (!file.isEmpty()) setModel(file);
}

void ModelPanel::chooseWeightsFile() {
  const QString current = toQString(document_->config().model.model);
  const QString file = QFileDialog::getOpenFileName(
      this, tr("Pretrained Weights"), QFileInfo(current).isFile() ? current : QDir::currentPath(),
      tr("Weights (*.pt *.pth);;All files (*)"));
  if (!file.isEmpty()) setModel(file);
}

void ModelPanel::update() {
  const QString model = toQString(document_->config().model.model);
  for (int i = 0; i < scaleButtons_.size(); ++i) {
    const QString id = QString::fromLatin1(kScales[i].id);
    scaleButtons_[i]->setChecked(model == builtInName(id) || model == id);
  }

  const bool running = info_->isRunning();
  // The last good model's figures would describe another model than the one in the field.
  summary_->setVisible(!info_->hasError());
  if (info_->hasSummary()) {
    const ModelSummaryInfo& s = info_->summary();
    // The engine's summary line in the user's words, from its figures.
    const QString line = tr("%1 summary: %2 layers, %3 parameters, %4 gradients, %5 GFLOPs")
                             .arg(s.name)
                             .arg(s.modules)
                             .arg(s.parameters)
                             .arg(s.gradients)
                             .arg(QString::number(s.gflops, 'f', 1));
    summary_->setText(
        tr("<b>%1</b> at %2 x %2 px, %3 classes, from %4.<br>Training keeps about %5 million "
           "activation values per image for the backward pass.%6")
            .arg(line.toHtmlEscaped())
            .arg(s.imgsz)
            .arg(s.nc)
            .arg(s.source.toHtmlEscaped())
            .arg(QLocale().toString(static_cast<double>(s.activationElements) / 1e6, 'f', 1))
            .arg(running ? tr(" Updating...") : QString()));
  } else {
    summary_->setText(running ? tr("Asking the engine about the model...") : QString());
  }
  const bool hasWeights =
      !info_->hasError() && info_->hasSummary() && info_->summary().weights.present;
  weights_->setVisible(hasWeights);
  if (hasWeights) {
    const StartingWeightsInfo& w = info_->summary().weights;
    QString text =
        tr("<b>Starting weights</b>: %1 (%2, %3), trained on %n class(es)", nullptr, w.classes)
            .arg(QFileInfo(w.file).fileName().toHtmlEscaped(), w.producer.toHtmlEscaped(),
                 w.taken.toHtmlEscaped());
    if (w.imgsz > 0) text += tr(" at %1 px").arg(w.imgsz);
    text +=
        QStringLiteral(".<br>") + tr("Transferred %1/%2 items.").arg(w.transferred).arg(w.total);
    if (!w.leftOut.isEmpty())
      text += QLatin1Char(' ') +
              tr("Kept as initialised: %1. The class branches follow your dataset's classes.")
                  .arg(w.leftOut.toHtmlEscaped());
    weights_->setText(text);
    weights_->setToolTip(QDir::toNativeSeparators(w.file));
  }

  error_->setVisible(info_->hasError());
  source_->setVisible(false);
  table_->setEnabled(!info_->hasError());
  if (!info_->hasError()) return;
  const ModelError& e = info_->error();
  QString where = e.file.isEmpty() ? QString() : QDir::toNativeSeparators(e.file);
  if (!where.isEmpty() && e.line > 0) where += QStringLiteral(":%1").arg(e.line);
  // The engine's message may name the place itself (file:line:column: field: what).
  error_->setText(where.isEmpty() || e.message.startsWith(e.file)
                      ? e.message
                      : tr("%1: %2").arg(where, e.message));
  // A model YAML of the user's: show it, the error's line marked, so that the fix is obvious
  // (a weights file is binary: its message says it all).
  QFile file(e.file);
  if (e.file.isEmpty() || syncbn::isWeightsFile(e.file.toStdString()) ||
      !file.open(QIODevice::ReadOnly))
    return;
  source_->setPlainText(QString::fromUtf8(file.read(1 << 20)));
  source_->setVisible(true);
  markLine(source_, e.line);
}

QString ModelPanel::summaryText() const {
  return summary_->text();
}

QString ModelPanel::weightsText() const {
  return weights_->isHidden() ? QString() : weights_->text();
}

QString ModelPanel::errorText() const {
  return info_->hasError() ? error_->text() : QString();
}

}  // namespace studio
