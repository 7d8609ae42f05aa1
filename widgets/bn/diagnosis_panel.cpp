#include "widgets/bn/diagnosis_panel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include "common/bn_diagnosis.h"
#include "stores/qt_text.h"
#include "stores/run_store.h"
#include "stores/translated_text.h"

namespace studio {
namespace diagnosis = syncbn::diagnosis;

DiagnosisPanel::DiagnosisPanel(QWidget* parent) : QWidget(parent) {
  setObjectName(QStringLiteral("diagnosisPanel"));
  auto* column = new QVBoxLayout(this);
  column->setContentsMargins(8, 6, 8, 6);
  headline_ = new QLabel(this);
  headline_->setObjectName(QStringLiteral("diagnosisHeadline"));
  headline_->setWordWrap(true);
  headline_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QFont bold = headline_->font();
  bold.setBold(true);
  headline_->setFont(bold);
  details_ = new QLabel(this);
  details_->setObjectName(QStringLiteral("diagnosisDetails"));
  details_->setWordWrap(true);
  details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  buttons_ = new QHBoxLayout;
  column->addWidget(headline_);
  column->addWidget(details_);
  column->addLayout(buttons_);
  update();
}

void DiagnosisPanel::setStore(RunStore* store) {
  if (store_) store_->disconnect(this);
  store_ = store;
  if (store_) connect(store_, &RunStore::diagnosisChanged, this, &DiagnosisPanel::update);
  update();
}

QString DiagnosisPanel::headline() const {
  return headline_->text();
}

QStringList DiagnosisPanel::offeredFixes() const {
  return fixes_;
}

QString DiagnosisPanel::fixTitle(const QString& fix) {
  if (fix == QLatin1String(diagnosis::kFixSyncBnResume)) return tr("Switch to SyncBN and Resume");
  if (fix == QLatin1String(diagnosis::kFixPreciseBn)) return tr("Recalibrate with PreciseBN");
  if (fix == QLatin1String(diagnosis::kFixGroupNorm)) return tr("Restart with GroupNorm");
  if (fix == QLatin1String(diagnosis::kFixFrozenBn)) return tr("Restart with Frozen BN");
  if (fix == QLatin1String(diagnosis::kFixLowerLr)) return tr("Restart with Half the lr0");
  return fix;
}

QString DiagnosisPanel::fixDescription(const QString& fix) {
  if (fix == QLatin1String(diagnosis::kFixSyncBnResume))
    return tr("Continue this run from weights/last.pt with BatchNorm synchronized over all ranks");
  if (fix == QLatin1String(diagnosis::kFixPreciseBn))
    return tr(
        "Recompute a checkpoint's running statistics over training batches, and validate "
        "before and after");
  if (fix == QLatin1String(diagnosis::kFixGroupNorm))
    return tr("A new run with GroupNorm, which does not depend on the batch");
  if (fix == QLatin1String(diagnosis::kFixFrozenBn))
    return tr("A new run with BatchNorm frozen at its running statistics, for fine-tuning");
  if (fix == QLatin1String(diagnosis::kFixLowerLr))
    return tr("A new run with the initial learning rate halved");
  return {};
}

void DiagnosisPanel::update() {
  const diagnosis::Verdict* verdict = store_ ? &store_->verdict() : nullptr;
  QString colour = QStringLiteral("#2e7d32");
  if (!verdict || !verdict->enoughData) {
    headline_->setText(store_ ? tr("Not enough data yet for a verdict: it needs the first "
                                   "BatchNorm probe or %n step(s).",
                                   nullptr, syncbn::OscillationIndex::kMinimumPoints)
                              : tr("No run"));
    colour = QStringLiteral("#555555");
  } else {
    headline_->setText(headlineOf(*verdict));
    if (verdict->problem)
      colour = QStringLiteral("#c62828");
    else if (!verdict->healthy)
      colour = QStringLiteral("#a85f00");
  }
  headline_->setStyleSheet(QStringLiteral("color: %1;").arg(colour));

  QStringList lines;
  QStringList fixes;
  if (verdict) {
    for (const diagnosis::Finding& f : verdict->findings) {
      if (f.message != verdict->headline)
        lines << QStringLiteral("<b>%1</b> %2")
                     .arg(toQString(f.rule).toHtmlEscaped(), messageOf(f).toHtmlEscaped());
      for (const std::string& fix : f.fixes)
        if (!fixes.contains(toQString(fix))) fixes << toQString(fix);
    }
    if (!verdict->healthy && fixes.contains(QLatin1String(diagnosis::kFixGroupNorm)) &&
        !fixes.contains(QLatin1String(diagnosis::kFixFrozenBn)))
      fixes << QString::fromLatin1(diagnosis::kFixFrozenBn);
  }
  details_->setText(lines.join(QStringLiteral("<br>")));
  details_->setVisible(!lines.isEmpty());
  if (fixes == fixes_) return;
  fixes_ = fixes;
  while (QLayoutItem* item = buttons_->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  for (const QString& fix : fixes_) {
    auto* button = new QPushButton(fixTitle(fix), this);
    button->setObjectName(QStringLiteral("fix.%1").arg(fix));
    button->setToolTip(fixDescription(fix));
    connect(button, &QPushButton::clicked, this, [this, fix] { emit fixRequested(fix); });
    buttons_->addWidget(button);
  }
  buttons_->addStretch(1);
}

}  // namespace studio
