; SPDX-License-Identifier: GPL-2.0-or-later
;
; SMBIOS disk: a raw hard-disk image that reads the SMBIOS tables the BIOS
; published, as an operating system would, and reports on COM1:
;
;   VSA-SMBIOS
;   BIOS-VENDOR=<type 0 vendor>
;   SYSTEM-SERIAL=<type 1 serial number>
;   UUID=<type 1 UUID, xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, upper case,
;        the first three fields read little-endian (SMBIOS 2.6+)>
;   BOARD-SERIAL=<type 2 serial number>
;   CHASSIS-SERIAL=<type 3 serial number>
;   ASSET-TAG=<type 3 asset tag>
;   VSA-SMBIOS-END
;
; then idles (HLT with interrupts on) until turned off. It looks for the
; 2.1 entry point "_SM_" on 16-byte boundaries in F0000h-FFFFFh, checks its
; checksum and "_DMI_", and walks the structure table (which must lie
; below 1 MiB: SeaBIOS puts small tables in the F segment). A failure
; prints "VSA-SMBIOS-FAIL <what>" and idles.
;
; Image: 2 cylinders x 16 heads x 63 sectors, like boot_disk.img; sector 0
; loads sectors 1-2 with INT 13h.

bits 16
org 7C00h

%include "com1.asm"

STAGE2_SECTORS  equ 2
DISK_SECTORS    equ 2 * 16 * 63

%macro SAY 1
        call print_inline
        db %1, 0
%endmacro

%macro FAIL 1
        call print_inline
        db "VSA-SMBIOS-FAIL ", %1, 10, 0
        jmp idle
%endmacro

start:
        jmp 0:main
main:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        cld
        sti
        mov ax, 0200h + STAGE2_SECTORS
        mov cx, 0002h
        xor dh, dh
        mov bx, 7E00h
        int 13h
        jc $
        com1_init
        jmp stage2

com1_print_routines

        times 510 - ($ - $$) db 0
        dw 0AA55h

stage2:
        SAY `VSA-SMBIOS\n`
        mov ax, 0F000h
        mov es, ax
        xor di, di
.scan:  cmp dword [es:di], '_SM_'
        jne .next
        movzx cx, byte [es:di + 5]      ; entry point length
        cmp cx, 1Fh
        jb .next
        xor al, al
        xor bx, bx
.sum:   add al, [es:di + bx]
        inc bx
        loop .sum
        test al, al
        jnz .next
        cmp dword [es:di + 10h], '_DMI'
        jne .next
        cmp byte [es:di + 14h], '_'
        je found
.next:  add di, 16
        jnz .scan
        FAIL "no-entry-point"

found:
        mov cx, [es:di + 16h]           ; structure table length
        mov eax, [es:di + 18h]          ; its address
        movzx ecx, cx
        mov edx, eax
        add edx, ecx
        cmp edx, 100000h
        jbe .low
        FAIL "tables-above-1MiB"
.low:   mov edx, eax
        shr edx, 4
        mov es, dx
        and ax, 0Fh
        mov bx, ax                      ; ES:BX = first structure
        add ax, cx
        mov [table_end], ax

walk:   cmp bx, [table_end]
        jae .end
        mov al, [es:bx]
        cmp al, 127
        je .end
        movzx dx, byte [es:bx + 1]
        add dx, bx
        mov [strings], dx
        cmp al, 0
        jne .not0
        SAY "BIOS-VENDOR="
        mov al, [es:bx + 4]
        call print_string
.not0:  cmp byte [es:bx], 1
        jne .not1
        SAY "SYSTEM-SERIAL="
        mov al, [es:bx + 7]
        call print_string
        SAY "UUID="
        call print_uuid
.not1:  cmp byte [es:bx], 2
        jne .not2
        SAY "BOARD-SERIAL="
        mov al, [es:bx + 7]
        call print_string
.not2:  cmp byte [es:bx], 3
        jne .skip
        SAY "CHASSIS-SERIAL="
        mov al, [es:bx + 7]
        call print_string
        SAY "ASSET-TAG="
        mov al, [es:bx + 8]
        call print_string
.skip:  mov si, [strings]           ; past the string set: its double NUL
.find:  cmp si, [table_end]
        jae .bad
        cmp word [es:si], 0
        je .found
        inc si
        jmp .find
.found: lea bx, [si + 2]
        jmp walk
.bad:   FAIL "unterminated-structure"
.end:   SAY `VSA-SMBIOS-END\n`

idle:   sti
        hlt
        jmp idle

; String number AL of the structure whose strings start at [strings]
; (ES segment), then a newline; number 0 or one past the set: just the
; newline. Keeps BX.
print_string:
        mov si, [strings]
        test al, al
        jz .newline
.seek:  cmp byte [es:si], 0         ; the set ended before string AL
        je .newline
        dec al
        jz .print
.skip:  inc si                      ; past this string and its NUL
        cmp byte [es:si - 1], 0
        jne .skip
        jmp .seek
.print: mov al, [es:si]
        test al, al
        jz .newline
        call putc
        inc si
        jmp .print
.newline:
        mov al, 10
        jmp putc

; The UUID at ES:BX+8 in text form, then a newline.
print_uuid:
        mov si, uuid_order
.next:  lodsb
        cmp al, 0FEh
        je .done
        cmp al, 0FFh
        jne .byte
        mov al, '-'
        call putc
        jmp .next
.byte:  movzx di, al
        mov al, [es:bx + di + 8]
        call print_hex8
        jmp .next
.done:  mov al, 10
        jmp putc

print_hex8:
        push ax
        shr al, 4
        call .digit
        pop ax
        and al, 0Fh
.digit: add al, '0'
        cmp al, '9'
        jbe putc
        add al, 'A' - '9' - 1
        ; fall through

; AL to COM1 after a bounded wait for the transmitter; keeps all but flags.
putc:
        push cx
        push dx
        push ax
        mov dx, COM1 + 5
        mov cx, 0FFFFh
.wait:  in al, dx
        test al, 20h
        jnz .ready
        loop .wait
.ready: pop ax
        mov dx, COM1
        out dx, al
        pop dx
        pop cx
        ret

uuid_order:     db 3, 2, 1, 0, 0FFh, 5, 4, 0FFh, 7, 6, 0FFh, 8, 9, 0FFh
                db 10, 11, 12, 13, 14, 15, 0FEh
table_end:      dw 0
strings:        dw 0

        times (1 + STAGE2_SECTORS) * 512 - ($ - $$) db 0
        times DISK_SECTORS * 512 - ($ - $$) db 0
