'use strict';
// Names each autocomplete box (Django's select2) after its field's <label>: select2 names the box
// by the chosen value alone, so an empty box had no accessible name (WCAG 4.1.2). Runs after
// admin/js/autocomplete.js has built the boxes (jQuery runs ready handlers in order).
{
    const $ = django.jQuery;

    function nameBoxes(root) {
        root.querySelectorAll('select.admin-autocomplete').forEach((select) => {
            const label = select.id && document.querySelector(`label[for="${select.id}"]`);
            const container = select.nextElementSibling;
            if (!label || !container || !container.classList.contains('select2')) {
                return;
            }
            label.id = label.id || `${select.id}-label`;
            const rendered = container.querySelector('.select2-selection__rendered');
            const box = container.querySelector('.select2-selection');
            box.setAttribute('aria-labelledby', `${label.id} ${rendered.id}`);
            rendered.setAttribute('aria-labelledby', label.id);
        });
    }

    $(() => nameBoxes(document));
    document.addEventListener('formset:added', (event) => nameBoxes(event.target));
}
