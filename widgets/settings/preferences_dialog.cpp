#include "widgets/settings/preferences_dialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QVBoxLayout>

#include "stores/engine_locator.h"

namespace studio {

PreferencesDialog::PreferencesDialog(QWidget* parent) : QDialog(parent) {
  setObjectName(QStringLiteral("preferencesDialog"));
  setWindowTitle(tr("Preferences"));
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  auto* row = new QHBoxLayout;
  engine_ = new QLineEdit(this);
  engine_->setObjectName(QStringLiteral("engineProgram"));
  engine_->setPlaceholderText(tr("Find it automatically"));
  engine_->setClearButtonEnabled(true);
  engine_->setToolTip(
      tr("The syncbn-engine executable the studio starts. Leave empty to use the "
         "one beside syncbn-studio, else the first on PATH."));
  auto* browse = new QPushButton(tr("Browse..."), this);
  row->addWidget(engine_, 1);
  row->addWidget(browse);
  form->addRow(tr("&Engine:"), row);
  detected_ = new QLabel(this);
  detected_->setObjectName(QStringLiteral("engineDetected"));
  detected_->setWordWrap(true);
  detected_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  form->addRow(QString(), detected_);
  layout->addLayout(form);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  layout->addWidget(buttons);
  resize(560, sizeHint().height());

  connect(browse, &QPushButton::clicked, this, [this] {
    const QString file = QFileDialog::getOpenFileName(this, tr("syncbn-engine"), engine_->text());
    if (!file.isEmpty()) engine_->setText(file);
  });
  connect(engine_, &QLineEdit::textChanged, this, &PreferencesDialog::updateDetected);
  connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  updateDetected();
}

QString PreferencesDialog::engineProgram() const {
  return engine_->text().trimmed();
}

void PreferencesDialog::setEngineProgram(const QString& program) {
  engine_->setText(program);
}

void PreferencesDialog::load() {
  setEngineProgram(QSettings().value(QString::fromLatin1(kEngineProgramSetting)).toString());
}

void PreferencesDialog::save() const {
  QSettings().setValue(QString::fromLatin1(kEngineProgramSetting), engineProgram());
}

void PreferencesDialog::updateDetected() {
  const EngineLocation location = EngineLocator::locate(engineProgram());
  detected_->setText(location.error.isEmpty()
                         ? tr("Starts %1").arg(QDir::toNativeSeparators(location.program))
                         : location.error);
  detected_->setStyleSheet(location.error.isEmpty() ? QString()
                                                    : QStringLiteral("color: #c62828;"));
}

}  // namespace studio
